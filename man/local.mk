# man
dist_man_MANS += man/vkd.ini.5
dist_man_MANS += man/vkd.8
dist_man_MANS += man/vk.3
dist_man_MANS += man/vkctl.8
dist_man_MANS += man/vk_http.3

# man
dist_man_MANS += man/vkd.ini.5

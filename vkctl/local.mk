# vkctl

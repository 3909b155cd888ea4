# vkctl and the control socket: integration tests against the real vkd.
# vkctl_lib.sh is sourced by them.
VKCTL_TESTS = \
	tests/integration/vkctl_status.sh \
	tests/integration/vkctl_kill.sh \
	tests/integration/vkctl_reload.sh \
	tests/integration/vkctl_stop.sh \
	tests/integration/vkctl_perm.sh \
	tests/integration/vkctl_garbage.sh
TESTS += $(VKCTL_TESTS)
EXTRA_DIST += $(VKCTL_TESTS) tests/integration/vkctl_lib.sh

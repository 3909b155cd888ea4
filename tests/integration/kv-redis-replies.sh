#!/bin/sh
# kv answers as Redis 7 does (redis-server 7.0.15, asked with redis-cli)
# for the forms of the commands it supports: SET's EX and PX in any order,
# repeated (the last one counts), a flag without its value, EX with PX, a
# word that is no flag; QUIT with arguments (Redis ignores them); a wrong
# number of arguments names the command in lower case, however it was
# spelt. Asked with redis-cli against a real vkd. SET's other flags are
# held against a running redis-server by kv-redis-compare.sh.
. "$top_srcdir/tests/integration/lib.sh"
need_vkctl
need_cmd redis-cli

serve_app kv 1

# ask EXPECTED COMMAND...: redis-cli's output for COMMAND must be EXPECTED.
ask() {
	_want=$1
	shift
	_got=$(redis-cli -p "$PORT" "$@" 2>&1)
	[ "$_got" = "$_want" ] || problems="${problems:-}'$*': '$_got', want '$_want'; "
}

syntax="ERR syntax error"
ask "$syntax" SET k v EX 10 PX 5
ask "$syntax" SET k v PX 5 EX 10
ask "$syntax" SET k v EX abc PX 5
ask "$syntax" SET k v EX 0 FOO
ask "$syntax" SET k v EX
ask "$syntax" SET k v PX 5 EX
ask "$syntax" SET k v FOO
ask "ERR wrong number of arguments for 'set' command" SET k
ask "ERR wrong number of arguments for 'get' command" GeT
ask "ERR wrong number of arguments for 'mset' command" mset a
ask "ERR value is not an integer or out of range" SET k v EX 10 EX abc
ask "ERR value is not an integer or out of range" SET k v PX 1.5
ask "ERR invalid expire time in 'set' command" SET k v EX 0
ask "ERR invalid expire time in 'set' command" SET k v EX 9223372036854775
ask "ERR invalid expire time in 'set' command" SET k v PX 9223372036854775807
ask OK SET k v EX 10 EX 5
ask 5 TTL k
ask OK SET k v EX abc EX 100
ask 100 TTL k
ask OK SET k v ex 200
ask 200 TTL k
ask OK SET k v
ask -1 TTL k
ask OK QUIT x
ask OK QUIT x y
ask PONG PING
[ -z "${problems:-}" ] || fail "$problems"
stop_vkd
exit 0

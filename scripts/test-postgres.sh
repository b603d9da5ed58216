#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (.ci/run uses it; so can a developer):
#   eval "$(scripts/test-postgres.sh start)"   # a new cluster on 127.0.0.1, trust auth
#   npm test
#   scripts/test-postgres.sh stop              # stops it and deletes its directory
# `start` prints only the shell lines to eval (IM_TUI_TEST_POSTGRES, IM_TUI_TEST_POSTGRES_DIR);
# everything else goes to stderr. PostgreSQL refuses to run as root: as root, the cluster belongs
# to the `postgres` user and its commands run as that user.
set -euo pipefail

marker=im-tui-test-postgres

fail() {
	echo "test-postgres: $*" >&2
	exit 1
}

# The directory of initdb, pg_ctl and pg_isready: pg_config's, else the newest Debian one.
find_bindir() {
	local dir
	if command -v pg_config >/dev/null 2>&1; then
		dir=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
			echo "$dir"
			return
		fi
	fi
	dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
		echo "$dir"
		return
	fi
	fail "no PostgreSQL server (initdb, pg_ctl) found by pg_config --bindir or in /usr/lib/postgresql/*/bin: install postgresql (Debian: apt-get install postgresql)"
}

# Runs a command as the cluster's owner: the postgres user when we are root, else ourselves.
as_owner() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u postgres -- "$@"
	else
		su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
	fi
}

start() {
	local bindir dir port locale attempt
	bindir=$(find_bindir)
	if [ "$(id -u)" -eq 0 ]; then
		id -u postgres >/dev/null 2>&1 ||
			fail "running as root, PostgreSQL needs a postgres user to run as: install postgresql (Debian: apt-get install postgresql), which creates it, or run this as another user"
		# root's TMPDIR may be out of the postgres user's reach; /tmp never is.
		dir=$(mktemp -d /tmp/im-tui-postgres.XXXXXX)
		chown postgres: "$dir"
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/im-tui-postgres.XXXXXX")
	fi
	touch "$dir/$marker"
	# The server's commands run from the cluster's directory: the postgres user may not enter ours.
	cd "$dir"

	# C.UTF-8 like Debian's own clusters where the system has it; C (bytes) otherwise.
	locale=C
	if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale=C.UTF-8; fi
	as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale="$locale" >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; rm -rf "$dir"; fail "initdb failed (its output is above)"; }

	# A free port: a random one below the kernel's ephemeral range (where the tests' own servers
	# get theirs), tried again when taken.
	for attempt in $(seq 1 20); do
		port=$((20000 + RANDOM % 12000))
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null 2>&1; then
			break
		fi
		if ! grep -qiE 'could not (bind|create any TCP/IP sockets)|address already in use' "$dir/server.log" 2>/dev/null; then
			cat "$dir/server.log" >&2 2>/dev/null || true
			stop_dir "$dir"
			fail "the server did not start (its log is above)"
		fi
		: >"$dir/server.log"
		port=
	done
	[ -n "$port" ] || { stop_dir "$dir"; fail "found no free port for the server in 20 tries"; }

	for attempt in $(seq 1 100); do
		if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
			echo "export IM_TUI_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres"
			echo "export IM_TUI_TEST_POSTGRES_DIR=$dir"
			echo "test-postgres: PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port, in $dir" >&2
			return
		fi
		sleep 0.1
	done
	cat "$dir/server.log" >&2 || true
	stop_dir "$dir"
	fail "the server started but does not answer on 127.0.0.1:$port (its log is above)"
}

# Stops the cluster in a directory this script made (it holds the marker) and deletes it.
stop_dir() {
	local dir=$1 bindir
	[ -f "$dir/$marker" ] || fail "$dir is not a directory test-postgres.sh start made; not touching it"
	bindir=$(find_bindir)
	# status: 0 running, 3 not running (a start that failed, or stopped by hand), 4 no cluster.
	if (cd "$dir" && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1); then
		(cd "$dir" && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null) ||
			fail "pg_ctl stop failed for $dir/data: stop the server by hand, then delete $dir"
	fi
	rm -rf "$dir"
}

stop() {
	local dir=${1:-${IM_TUI_TEST_POSTGRES_DIR:-}}
	[ -n "$dir" ] || fail "which server? set IM_TUI_TEST_POSTGRES_DIR (start prints it) or pass its directory: $0 stop DIR"
	[ -d "$dir" ] || fail "$dir does not exist (stopped already?)"
	stop_dir "$dir"
	echo "test-postgres: stopped, and deleted $dir" >&2
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*) fail "usage: eval \"\$($0 start)\"; ...; $0 stop [DIR]" ;;
esac

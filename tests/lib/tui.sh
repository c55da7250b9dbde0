# Helpers for console tests: the binary runs inside a private tmux server
# (socket in $WORK); keys are typed with send-keys, the screen is read with
# capture-pane. Needs WORK and TARMAC; start() uses $CONF, else $WORK/tarmac.conf.
WORK=${WORK:?}
SOCK=$WORK/tmux.sock
T() { tmux -S "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$WORK"' EXIT

screen() { T capture-pane -p -t con; }
wait_for() { # wait_for TEXT: up to 10 s for TEXT on the screen
	local i
	for i in $(seq 1 100); do screen | grep -qF -- "$1" && return 0; sleep 0.1; done
	return 1
}
wait_for_re() { # wait_for_re REGEX: up to 10 s
	local i
	for i in $(seq 1 100); do screen | grep -qE -- "$1" && return 0; sleep 0.1; done
	return 1
}
on_screen() { screen | grep -qE -- "$1"; }
not_on_screen() { ! screen | grep -qE -- "$1"; }
start() { # start COLS ROWS ENV...
	local cols=$1 rows=$2; shift 2
	T kill-server 2>/dev/null && sleep 0.5 # let the old server release its socket
	rm -f "$SOCK"
	T new-session -d -s con -x "$cols" -y "$rows" \
		"env $* $TARMAC -c ${CONF:-$WORK/tarmac.conf}; echo CONSOLE-EXITED \$?; sleep 60"
}


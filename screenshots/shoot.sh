#!/usr/bin/env bash
# shoot.sh: make the PNG screenshots of the eventdesk console that README.md
# embeds, from the built-in demo (fake Pipedrive and Close servers).
#
# Run it from the repository root:
#
#     screenshots/shoot.sh
#
# It builds eventdesk into a temporary directory and runs `eventdesk demo`
# in a private tmux server (socket "eventdesk-shots", no user tmux config) at
# a fixed terminal size, with XDG_DATA_HOME and TMPDIR in that temporary
# directory so your real eventdesk data is never touched. It drives the
# console with tmux send-keys like a user, captures each screen with its
# colours (tmux capture-pane -e), turns it into HTML with aha and renders the
# HTML to PNG with headless chromium. It writes, overwriting:
#
#     screenshots/instances.png     home list with the demo instances
#     screenshots/form.png          instance form (e on an instance)
#     screenshots/poller.png        poller editor with the next-request preview
#     screenshots/events.png        live events, polling and webhook rows
#     screenshots/event-detail.png  one event: delivery attempts, raw JSON
#     screenshots/deliveries.png    callback notifications (a dead one if the
#                                   demo produced it within 60 s)
#     screenshots/diff.png          h then d on an updated object: what changed
#     screenshots/error-popup.png   an error that stays until dismissed (w on
#                                   a webhook instance whose vendor webhook is
#                                   already registered)
#
# Needs go and perl, plus tmux, aha, chromium and fonts-dejavu-core, which it installs
# with apt-get (Debian) when a command is missing. It takes 30-60 s (plus
# any install), most of it waiting for the demo to produce events and a dead
# notification; it gives up on the dead one after 60 s of demo.
# Environment: SHOTS_COLS and SHOTS_ROWS change the terminal size (default
# 120x32); SHOTS_DEBUG=1 keeps the temporary directory (captures, HTML).
set -euo pipefail

cols=${SHOTS_COLS:-120}
rows=${SHOTS_ROWS:-32}
sock=eventdesk-shots
target=shots:0
out=screenshots

if [[ ! -f go.mod || ! -d $out ]] || ! grep -q '^module github.com/eventdesk/eventdesk$' go.mod; then
	echo "shoot.sh: run me from the eventdesk repository root: screenshots/shoot.sh" >&2
	exit 2
fi

log() { printf '%(%H:%M:%S)T shoot: %s\n' -1 "$*" >&2; }

# --- tools -----------------------------------------------------------------

need=()
command -v tmux >/dev/null || need+=(tmux)
command -v aha >/dev/null || need+=(aha)
command -v chromium >/dev/null || need+=(chromium)
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]] || need+=(fonts-dejavu-core)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "shoot.sh: go is not installed" >&2; exit 1; }

if tmux -L "$sock" has-session 2>/dev/null; then
	echo "shoot.sh: tmux server \"$sock\" is already running (another shoot.sh?);" \
		"stop it with: tmux -L $sock kill-server" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/eventdesk-shots.XXXXXX")
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	if [[ ${SHOTS_DEBUG:-} == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building eventdesk"
go build -o "$tmp/eventdesk" .
mkdir -p "$tmp/data" "$tmp/tmp" "$tmp/chrome"

# --- driving the console ----------------------------------------------------

screen() { tmux -L "$sock" capture-pane -p -t "$target"; }

# fail prints the screen and stops.
fail() {
	{
		echo "shoot.sh: $*"
		echo "----- screen -----"
		screen || true
		echo "------------------"
		if [[ -s $tmp/demo.log ]]; then
			echo "----- demo stderr (last lines) -----"
			tail -n 20 "$tmp/demo.log"
		fi
	} >&2
	exit 1
}

# poll_for MODE PATTERN TIMEOUT: wait until the screen has (MODE=F, fixed
# string; MODE=E, extended regex) PATTERN, checking every 0.2 s. Returns 1 on
# timeout.
poll_for() {
	local mode=$1 pattern=$2 timeout=$3
	local deadline=$((SECONDS + timeout))
	while :; do
		if screen | grep -aq"$mode" -- "$pattern"; then
			return 0
		fi
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# wait_for TEXT [TIMEOUT]: wait until TEXT is on screen, or fail.
wait_for() { poll_for F "$1" "${2:-10}" || fail "no \"$1\" on screen after ${2:-10} s"; }

# wait_re REGEX [TIMEOUT]: wait until a line matches REGEX, or fail.
wait_re() { poll_for E "$1" "${2:-10}" || fail "nothing matches /$1/ after ${2:-10} s"; }

# wait_gone TEXT [TIMEOUT]: wait until TEXT has left the screen (a toast);
# carry on regardless.
wait_gone() {
	local deadline=$((SECONDS + ${2:-10}))
	while screen | grep -aqF -- "$1" && ((SECONDS < deadline)); do
		sleep 0.2
	done
}

# keys KEY...: tmux key names (Enter, Escape, Down, C-s, or a single
# character), one at a time with a short settle so the console reads each as
# its own key: Bubble Tea merges runes that arrive together into one key.
keys() {
	local k
	for k in "$@"; do
		tmux -L "$sock" send-keys -t "$target" "$k"
		sleep 0.15
	done
}

# type_text TEXT: literal text, as one paste of runes.
type_text() { tmux -L "$sock" send-keys -t "$target" -l "$1"; sleep 0.15; }

# palette NAME: run a ":" palette command.
palette() {
	keys :
	wait_re '^:' 5
	type_text "$1"
	keys Enter
}

# cursor_line: the list row under the cursor (▸).
cursor_line() { screen | grep -a -m1 '^ *▸' || true; }

# cursor_on REGEX [MAX]: move the list cursor from the top down until its
# row matches REGEX. Returns 1 if no row within MAX does.
cursor_on() {
	local re=$1 max=${2:-40} i line prev deadline
	keys g
	poll_for E '^ *▸' 5 || return 1
	for ((i = 0; i <= max; i++)); do
		line=$(cursor_line)
		[[ $line =~ $re ]] && return 0
		keys j
		# wait for the cursor to move; if it does not, the list has ended
		prev=$line
		deadline=$((SECONDS + 2))
		while line=$(cursor_line) && [[ $line == "$prev" ]]; do
			((SECONDS < deadline)) || return 1
			sleep 0.1
		done
	done
	return 1
}

# shot NAME: capture the screen with its colours into $tmp/NAME.ans.
shot() {
	wait_gone 'polled #' 10 # the toast of a P, if any
	sleep 0.3 # let the frame that showed the awaited text finish drawing
	tmux -L "$sock" capture-pane -e -N -p -t "$target" >"$tmp/$1.ans"
	log "captured $1"
}

# --- the demo ----------------------------------------------------------------

log "starting the demo in tmux (${cols}x${rows})"
tmux -L "$sock" -f /dev/null new-session -d -s shots -x "$cols" -y "$rows" \
	"cd '$tmp' && exec env TERM=xterm-256color COLORTERM=truecolor XDG_DATA_HOME='$tmp/data' TMPDIR='$tmp/tmp' \
	'$tmp/eventdesk' demo --listen 127.0.0.1:0 2>'$tmp/demo.log'" \
	\; set-option -s escape-time 0 \
	\; set-option -g remain-on-exit on
started=$SECONDS

wait_for Pipedrive 20
wait_re '^ *▸' 10

# The live feed, until it has polling and webhook rows (the SOURCE column:
# " polling " and " webhook ", unlike the names' "(polling)", "(webhooks)").
palette events
wait_for 'rows' 10
log "waiting for polling and webhook events"
if ! poll_for E ' polling ' 15; then
	# No poll yet: poll the Pipedrive polling instance now, as a user would.
	log "no polling events yet; pressing P on the polling instance"
	palette instances
	cursor_on 'Pipedrive \(polling\)' || fail "no Pipedrive polling instance"
	keys P
	palette events
	wait_re ' polling ' 30
fi
wait_re ' webhook ' 30
wait_re '(1[2-9]|[2-9][0-9]|[0-9]{3,}) rows' 30

# The instance form.
palette instances
wait_re '^ *▸.*Demo' 10
cursor_on 'Pipedrive \(polling\)' || fail "no Pipedrive polling instance"
keys e
wait_for 'Name' 10
wait_for 'Events enabled' 10
shot form
keys Escape
wait_re '^ *▸.*Demo' 10

# The poller editor and its preview of the next requests.
cursor_on 'Pipedrive \(polling\)' || fail "no Pipedrive polling instance"
keys p
wait_for 'Next requests' 10
wait_for 'GET http' 10
shot poller
keys Escape
wait_re '^ *▸.*Demo' 10

# Deliveries, ideally with a dead notification: the status line says
# "N dead"; the demo makes one within about 30 s, give it up to 60 s.
palette deliveries
wait_for 'pending' 10
left=$((60 - (SECONDS - started)))
((left > 0)) || left=1
log "waiting up to ${left} s for a dead notification"
if poll_for E ' [1-9][0-9]* dead' "$left"; then
	# Put the cursor on it if it is in view; never mind if not.
	cursor_on ' dead ' 30 || keys g
else
	log "no dead notification yet; capturing the deliveries without one"
fi
shot deliveries

# The live feed again, fuller by now.
palette events
wait_re ' polling ' 10
wait_re ' webhook ' 10
poll_for E '([2-9][0-9]|[0-9]{3,}) rows' 20 || log "fewer than 20 events; capturing anyway"
shot events

# Pause, pick a delivered polling event (or any delivered one) and open it.
keys f
wait_for 'paused' 5
cursor_on ' polling .*delivered' 30 || cursor_on 'delivered' 30 || fail "no delivered event"
keys Enter
wait_for 'Raw payload' 10
wait_for 'Delivery' 10
wait_re '^ +#[0-9]+ .*[0-9]{2}:[0-9]{2}:[0-9]{2} ' 10 # an attempt line
shot event-detail
keys Escape
wait_for 'paused' 5

# An object's history and the diff against its previous version: a webhook
# UPDATED event (the demo edits a Pipedrive contact within seconds).
if ! cursor_on ' webhook contacts +UPDATED ' 40; then
	keys f
	wait_re ' UPDATED ' 30
	keys f
	wait_for 'paused' 5
	cursor_on ' UPDATED ' 40 || fail "no UPDATED event"
fi
keys h
wait_for 'Events of' 10
wait_re 'CREATED' 10
keys d
wait_for 'Diff of event' 10
wait_re '^ ~ \$\.' 10
shot diff
keys Escape
wait_for 'Events of' 5

# An error popup: registering a vendor webhook that the demo already has.
palette instances
wait_re '^ *▸.*Demo' 10
cursor_on 'Pipedrive \(webhooks\)' || fail "no Pipedrive webhook instance"
keys w
wait_for 'Register a webhook' 10
keys y
wait_for 'Error' 10
shot error-popup
keys Escape
wait_re '^ *▸.*Demo' 10

# Home last: the instances with their event counts by now.
palette instances
wait_re '^ *▸.*Demo' 10
cursor_on 'Pipedrive \(polling\)' || fail "no Pipedrive polling instance"
shot instances

keys C-c
tmux -L "$sock" kill-server 2>/dev/null || true

# --- PNGs ------------------------------------------------------------------

# aha gets reverse video wrong (it swaps explicit colours but not 39/49, so
# a reversed banner loses its background). Resolve reverse video first: every
# SGR sequence becomes a full one with the colours already swapped, the
# terminal defaults (white on black, as aha --black) made explicit.
cat >"$tmp/unreverse.pl" <<'PERL'
use strict; use warnings;
my (%attr, $fg, $bg);
sub as { # as(CODE, "3" or "4"): a colour code as a foreground or background
	my ($c, $to) = @_;
	return "${to}8$1" if $c =~ /^[34]8(;.*)$/;
	my $bright = $c >= 90;
	my $i = $c % 10;
	return $bright ? ($to == 3 ? 90 : 100) + $i : $to * 10 + $i;
}
sub sgr {
	my @p = split /;/, shift, -1;
	@p = (0) unless @p;
	while (@p) {
		my $c = shift @p;
		$c = 0 if $c eq '';
		if ($c == 0) { %attr = (); $fg = $bg = undef }
		elsif ($c == 38 || $c == 48) {
			my $m = shift(@p) // 5;
			my $v = $m == 5 ? "$c;5;" . (shift(@p) // 0) : "$c;2;" . join(';', splice(@p, 0, 3));
			if ($c == 38) { $fg = $v } else { $bg = $v }
		}
		elsif ($c == 39) { $fg = undef }
		elsif ($c == 49) { $bg = undef }
		elsif (($c >= 30 && $c <= 37) || ($c >= 90 && $c <= 97)) { $fg = $c }
		elsif (($c >= 40 && $c <= 47) || ($c >= 100 && $c <= 107)) { $bg = $c }
		elsif ($c == 22) { delete @attr{1, 2} }
		elsif ($c >= 23 && $c <= 29) { delete $attr{$c - 20} }
		elsif ($c >= 1 && $c <= 9) { $attr{$c} = 1 }
	}
	my @out = (0, grep { $_ != 7 } sort keys %attr);
	my ($f, $b) = (defined $fg ? as($fg, 3) : undef, defined $bg ? as($bg, 4) : undef);
	if ($attr{7}) {
		($f, $b) = (defined $bg ? as($bg, 3) : '38;5;16', defined $fg ? as($fg, 4) : '48;5;15');
	}
	push @out, grep { defined } $f, $b;
	return "\e[" . join(';', @out) . 'm';
}
while (<>) { s/\e\[([0-9;]*)m/sgr($1)/ge; print }
PERL

# DejaVu Sans Mono at 14 px: 0.602 em advance (8.43 px) per column, rows of
# 14 px with line-height 1.0 (anything more leaves gaps in │ borders).
pad=12
width=$(((cols * 843 + 99) / 100 + 2 * pad))
height=$((rows * 14 + 2 * pad))
style="font-family:'DejaVu Sans Mono',monospace;font-size:14px;line-height:1.0;margin:0;padding:${pad}px"

for name in instances form poller events event-detail deliveries diff error-popup; do
	perl "$tmp/unreverse.pl" <"$tmp/$name.ans" |
		aha --black --title "eventdesk $name" --style "$style" |
		sed 's|<pre>|<pre style="margin:0;font:inherit">|' >"$tmp/$name.html"
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/chrome" --window-size="$width,$height" \
		--screenshot="$tmp/$name.png" "file://$tmp/$name.html" >"$tmp/chromium.log" 2>&1 ||
		{ cat "$tmp/chromium.log" >&2; echo "shoot.sh: chromium failed on $name" >&2; exit 1; }
	mv "$tmp/$name.png" "$out/$name.png"
	log "wrote $out/$name.png"
done
log "done in $SECONDS s"

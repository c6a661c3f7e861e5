# Sourced by bench-vm.sh: helpers shared by the mechanisms and workloads.
hp=/sys/kernel/mm/hyperplace
fast=$(cat $hp/fast_node) slow=$(cat $hp/slow_node)
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

# Seconds since boot, with hundredths: the clock of every time series.
now() { cut -d' ' -f1 /proc/uptime; }
# elapsed T0: seconds since T0 (a now() value).
elapsed() { awk -v t0="$1" -v t="$(now)" 'BEGIN { printf "%.2f", t - t0 }'; }

# MiB free on node $1.
node_free_mib() {
	awk '/MemFree/ { print int($4 / 1024) }' /sys/devices/system/node/node$1/meminfo
}

# PIDs of the processes whose comm matches the shell pattern $1.
pids_of() {
	local p c
	for p in /proc/[0-9]*; do
		read -r c < $p/comm 2>/dev/null || continue
		case $c in $1) echo ${p#/proc/} ;; esac
	done
}
# CPU ticks (user + system) of the processes $@ (0 for none): read once
# per sample, so that a time series costs one awk, not a walk of /proc.
ticks_of() {
	local p
	for p; do cat /proc/$p/stat 2>/dev/null; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}
# CPU ticks of the processes whose comm matches the shell pattern $1:
# the mechanisms' kernel threads.
cpu_of() { ticks_of $(pids_of "$1"); }
# System-time ticks of process $1 (all its threads).
sys_of() { awk '{ sub(/^.*\) /, ""); print $13 }' /proc/$1/stat 2>/dev/null || echo 0; }
secs_of() { awk -v t="$1" -v hz=$hz 'BEGIN { printf "%.2f", t / hz }'; }

# Sum of the /proc/vmstat items matching the regular expression $1.
vmstat_sum() {
	awk -v k="$1" '$1 ~ k { s += $2 } END { print s + 0 }' /proc/vmstat
}

# The workload's hot data, in /tmp/hot.ranges ("START END" lines): what
# the program wrote between hot_mark and hot_found (nodeof -p lists the
# present pages of its private writable mappings), or a range it names.
# hs-he is the span of it.
hot_mark() { nodeof -p $wl_pid > /tmp/before.ranges; }
hot_found() {
	nodeof -p $wl_pid -x /tmp/before.ranges > /tmp/hot.ranges
	hot_span
}
hot_span() {
	hs=$(sed -n '1s/ .*//p' /tmp/hot.ranges)
	he=$(sed -n '$s/.* //p' /tmp/hot.ranges)
	[ -n "$he" ]
}
# hot_pct NODE: percent of the present pages of the hot data on NODE.
hot_pct() {
	nodeof $wl_pid -f /tmp/hot.ranges 2>/dev/null | awk -v n="$1" \
		'{ printf "%.1f", $2 ? 100 * $(3 + n) / $2 : 0 }'
}
# MiB of the hot data (present or not).
hot_mib() { nodeof $wl_pid -f /tmp/hot.ranges | awk '{ print int($1 / 256) }'; }

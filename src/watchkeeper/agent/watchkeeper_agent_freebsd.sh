#!/bin/sh
# watchkeeper-agent for FreeBSD: print this host's state as sections in the Checkmk agent format.
#
# POSIX sh and FreeBSD's base tools only (smartctl where it is installed): FreeBSD has no
# Python in base, so Watchkeeper pipes this file to `sh -s` over SSH and a host needs nothing
# installed. It also runs from inetd, one connection one output:
#   /etc/inetd.conf: watchkeeper stream tcp nowait root /usr/local/libexec/watchkeeper-agent watchkeeper-agent
#   /etc/services:   watchkeeper 6556/tcp
# It only reads state. Every command is time-limited (timeout(1) is in base since 10.3); a
# collector that fails or times out is named in the `FailedCollectors:` line and the others run.
# Slow fetches (freebsd-update, the vulnerability database) run in the background and are read
# from their cache, so one output never waits for a download.

VERSION="0.1.0"
TIMEOUT="${WATCHKEEPER_TIMEOUT:-20}"
FETCH_TIMEOUT="${WATCHKEEPER_FETCH_TIMEOUT:-900}"
STATE_DIR="${WATCHKEEPER_AGENT_STATE_DIR:-/var/db/watchkeeper-agent}"
DEV="${WATCHKEEPER_AGENT_DEV:-/dev}"
ROOT="${WATCHKEEPER_AGENT_ROOT:-}"
TAB=$(printf '\t')
SSH_KEY_TYPES="ssh-rsa ssh-dss ssh-ed25519 ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 \
sk-ssh-ed25519@openssh.com sk-ecdsa-sha2-nistp256@openssh.com"
FAILED=""
umask 077

have() {
    command -v "$1" >/dev/null 2>&1
}

# run COMMAND...: time-limited, and its output always ends in a newline (a tool whose last line
# has none would otherwise swallow the next section's header).
run() {
    run_output=$(if have timeout; then timeout "$TIMEOUT" "$@"; else "$@"; fi)
    run_status=$?
    [ -n "$run_output" ] && printf '%s\n' "$run_output"
    return "$run_status"
}

# note NAME STATUS: after each collector; a failure is named, never fatal.
note() {
    if [ "$2" -eq 124 ]; then
        FAILED="$FAILED $1(timeout)"
    elif [ "$2" -ne 0 ]; then
        FAILED="$FAILED $1(exit-$2)"
    fi
}

# cached NAME MAX_AGE_S COMMAND...: print `made max_age` and the saved output of COMMAND; when the
# saved output is older than MAX_AGE_S, a background run (one at a time) replaces it.
cached() {
    name=$1
    max_age=$2
    shift 2
    file="$STATE_DIR/$name"
    now=$(date +%s)
    made=0
    if [ -f "$file" ]; then
        made=$(head -n 1 "$file")
        case "$made" in
            '' | *[!0-9]*) made=0 ;;
        esac
    fi
    if [ $((now - made)) -ge "$max_age" ] && ! refresh "$name" "$@"; then
        echo "made $made $max_age"
        echo "watchkeeper-error: cannot create the agent's state directory $STATE_DIR for $name"
        return 0
    fi
    if [ "$made" -gt 0 ]; then
        echo "made $made $max_age"
        tail -n +2 "$file"
    else
        echo "made 0 $max_age"
        echo "watchkeeper-pending: the first run of $name is under way"
    fi
}

refresh() {
    name=$1
    shift
    mkdir -p "$STATE_DIR" 2>/dev/null && chmod 700 "$STATE_DIR" || return 1
    lock="$STATE_DIR/$name.lock"
    if ! mkdir "$lock" 2>/dev/null; then
        # a lock older than the fetch limit is left by a killed run
        if [ -n "$(find "$lock" -maxdepth 0 -mmin +$((FETCH_TIMEOUT / 60 + 1)) 2>/dev/null)" ]; then
            rmdir "$lock" 2>/dev/null
        fi
        return 0
    fi
    (
        started=$(date +%s)
        if have timeout; then
            timeout "$FETCH_TIMEOUT" "$@" >"$STATE_DIR/$name.new" 2>&1
        else
            "$@" >"$STATE_DIR/$name.new" 2>&1
        fi
        status=$?
        {
            echo "$started"
            echo "exit $status"
            awk 1 "$STATE_DIR/$name.new"  # with a newline at its end, whatever the tool printed
        } >"$STATE_DIR/$name.tmp" && mv "$STATE_DIR/$name.tmp" "$STATE_DIR/$name"
        rm -f "$STATE_DIR/$name.new"
        rmdir "$lock"
    ) </dev/null >/dev/null 2>&1 &
}

check_mk() {
    echo "<<<check_mk>>>"
    echo "Version: $VERSION"
    echo "AgentOS: freebsd"
    echo "Hostname: $(hostname)"
    userland=$(run freebsd-version -u 2>/dev/null)
    echo "OSName: FreeBSD ${userland:-$(uname -r)}"
    echo "KernelRelease: $(uname -r)"
    echo "Architecture: $(uname -m)"
}

cpu() {
    rc=0
    echo "<<<freebsd_load:sep(0)>>>"
    run sysctl -i vm.loadavg hw.ncpu || rc=$?
    echo "<<<freebsd_cpu:sep(0)>>>"
    run sysctl -i kern.cp_time hw.ncpu || rc=$?
    return "$rc"
}

memory() {
    echo "<<<freebsd_mem:sep(0)>>>"
    rc=0
    run sysctl -i hw.physmem hw.pagesize vm.stats.vm.v_page_count vm.stats.vm.v_free_count \
        vm.stats.vm.v_inactive_count vm.stats.vm.v_cache_count vm.stats.vm.v_laundry_count || rc=$?
    echo "[swapinfo]"
    run swapinfo -k || rc=$?
    return "$rc"
}

uptime_() {
    echo "<<<freebsd_uptime:sep(0)>>>"
    run sysctl -i kern.boottime || return $?
    echo "now: $(date +%s)"
}

filesystems() {
    echo "<<<freebsd_df:sep(0)>>>"
    rc=0
    echo "[df]"
    run df -Pkl || rc=$?  # -P sets 512-byte blocks: -k must come after it
    echo "[inodes]"
    run df -kil || rc=$?
    echo "[mounts]"
    run mount -p || rc=$?
    return "$rc"
}

mounts() {
    echo "<<<mounts>>>"
    run mount -p
}

diskio() {
    echo "<<<freebsd_iostat:sep(0)>>>"
    date +%s
    run iostat -d -x -I
}

interfaces() {
    echo "<<<freebsd_if:sep(0)>>>"
    rc=0
    echo "[netstat]"
    run netstat -ibndW || rc=$?
    echo "[ifconfig]"
    run ifconfig -a || rc=$?
    return "$rc"
}

zfs() {
    have zpool || return 0
    echo "<<<zfs:sep(0)>>>"
    echo "[zpool status]"
    run zpool status -p 2>/dev/null || run zpool status || return $?
    echo "[zpool list]"
    pools=$(run zpool list -Hp -o name,size,allocated,free,health) || return $?
    [ -n "$pools" ] && echo "$pools"
    names=$(echo "$pools" | cut -f 1)
    if [ -n "$names" ] && have zfs; then
        echo "[zfs get]"
        # shellcheck disable=SC2086 # pool names have no blanks: split them into arguments
        run zfs get -Hp used,available,compressratio $names
    fi
}

smart() {
    have smartctl || return 0
    echo "<<<smart:sep(0)>>>"
    run smartctl --scan-open | while read -r device _dash kind _rest; do
        case "$device" in
            /dev/*) ;;
            *) continue ;;
        esac
        echo "[device $device $kind]"
        run smartctl -x -n standby -d "$kind" "$device"
    done
    return 0  # smartctl's exit code is a bit mask of findings, not a failure
}

raid_controllers() {
    tools=""
    have mfiutil && [ -e "$DEV/mfi0" ] && tools="mfiutil"
    have mrsasutil && [ -e "$DEV/mrsas0" ] && tools="$tools mrsasutil"
    [ -n "$tools" ] || return 0
    echo "<<<megaraid:sep(0)>>>"
    rc=0
    for tool in $tools; do
        echo "[mfiutil]"
        for what in volumes drives battery; do
            run "$tool" show "$what" 2>&1 || rc=$?
        done
    done
    return "$rc"
}

geom_raid() {
    have gmirror || have graid || return 0
    rc=0
    echo "<<<geom_raid:sep(0)>>>"
    if kldstat -q -m g_mirror 2>/dev/null; then
        echo "[gmirror]"
        run gmirror status || rc=$?
    fi
    if kldstat -q -m g_raid 2>/dev/null; then
        echo "[graid]"
        run graid status || rc=$?
    fi
    return "$rc"
}

disks() {
    echo "<<<geom_disks:sep(0)>>>"
    run geom disk list
}

reboot_needed() {
    have freebsd-version || return 0
    echo "<<<reboot_needed:sep(0)>>>"
    running=$(run freebsd-version -r) || return $?
    installed=$(run freebsd-version -k) || return $?
    echo "kernel_running $running"
    # freebsd-update install keeps the running kernel as /boot/kernel.old: both are installed, the newer last
    if [ "$running" = "$installed" ]; then
        echo "kernel_installed $installed"
    else
        echo "kernel_installed $running $installed"
    fi
}

freebsd_update() {
    have freebsd-update || return 0
    echo "<<<freebsd_update:sep(0)>>>"
    cached freebsd-update 21600 env PAGER=cat freebsd-update --not-running-from-cron fetch
}

# The clock, in the sections the Linux agent sends: chrony where it runs, else base ntpd (its
# `ntpq -np` with the tally code split off, `%` for none). No daemon: no section, no service.
timesync() {
    if have chronyc && pgrep -x chronyd >/dev/null 2>&1; then
        echo "<<<chrony>>>"
        run chronyc -n tracking
    elif have ntpq && pgrep -x ntpd >/dev/null 2>&1; then
        peers=$(run ntpq -np) || return $?
        echo "<<<ntp>>>"
        printf '%s\n' "$peers" | awk '
            /^ *(remote|=)/ || !NF { next }
            { tally = substr($0, 1, 1); if (tally == " ") tally = "%"; rest = substr($0, 2); sub(/^ +/, "", rest)
              print tally " " rest }'
    fi
}

# The mail queue, summarised here however long it is, in the rows the Linux agent sends:
#   queue MTA NAME COUNT OLDEST_EPOCH BYTES / total MTA COUNT BYTES / reason MTA COUNT TEXT
# postfix's `postqueue -p` (active `*`, hold `!`, deferred), sendmail's `mailq` (its MTA queue and
# the MSP's submit queue; `Total requests:`), or dma's `mailq` (IDs only: counted, not aged).
mail_queue() {
    if have postqueue; then
        mta=postfix
        listing=$(run postqueue -p 2>&1)
    elif have mailq; then
        mta=sendmail
        grep -q '^mailq[[:space:]].*dma' "$ROOT/etc/mail/mailer.conf" 2>/dev/null && mta=dma
        listing=$(run mailq 2>&1)
    else
        return 0
    fi
    status=$?
    echo "<<<mail_queue:sep(9)>>>"
    if [ "$status" -ne 0 ]; then  # an MTA that cannot list its queue is not an empty queue
        printf 'error\t%s\t%s\n' "$mta" "$(printf '%s\n' "$listing" | tail -n 1 | tr '\t' ' ')"
        return 0
    fi
    printf '%s\n' "$listing" | awk -v mta="$mta" -v now="$(date +%s)" -v year="$(date +%Y)" -v tz="$(date +%z)" \
        -v tab="$TAB" '
        function days(y, m, d,    era, yoe, doy, doe) {  # days since 1970-01-01 of a civil date
            y -= (m <= 2); era = int((y >= 0 ? y : y - 399) / 400); yoe = y - era * 400
            doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
            doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
            return era * 146097 + doe - 719468
        }
        function stamp(y, m, d, clock,    t) {
            split(clock, t, ":")
            return days(y, m, d) * 86400 + t[1] * 3600 + t[2] * 60 + t[3] - offset
        }
        BEGIN {
            split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", names, " ")
            for (i = 1; i <= 12; i++) month[names[i]] = i
            offset = (substr(tz, 2, 2) * 3600 + substr(tz, 4, 2) * 60) * (substr(tz, 1, 1) == "-" ? -1 : 1)
            queue = "queued"
        }
        /^MSP Queue status/ { queue = "submit"; next }
        /^MTA Queue status/ { queue = "queued"; next }
        /Total requests: / { total += $NF; have_total = 1; next }
        /^-- [0-9]+ Kbytes in [0-9]+ Request/ { total = $5; total_bytes = $2 * 1024; have_total = 1; next }
        /^Mail queue is empty/ { have_total = 1; next }
        mta == "dma" && /^ID[ \t]*: / { count["queued"]++; bytes["queued"] += 0; next }
        $1 ~ /^[A-Za-z0-9]+[*!X-]?$/ && $2 ~ /^[0-9]+$/ && ($4 in month) && $5 ~ /^[0-9]+$/ {
            name = queue
            if (mta == "postfix") name = ($1 ~ /[*]$/) ? "active" : ($1 ~ /!$/) ? "hold" : "deferred"
            when = stamp(year, month[$4], $5, $6)
            if (when > now + 86400) when = stamp(year - 1, month[$4], $5, $6)
            count[name]++; bytes[name] += $2
            if (!(name in oldest) || when < oldest[name]) oldest[name] = when
            current = name; next
        }
        /^[ \t]+\(.*\)[ \t]*$/ && current != "" && (mta != "postfix" || current == "deferred") {
            text = $0; sub(/^[ \t]+\(/, "", text); sub(/\)[ \t]*$/, "", text); gsub(/\t/, " ", text)
            reasons[substr(text, 1, 300)]++
        }
        END {
            for (name in count) {
                print "queue" tab mta tab name tab count[name] tab (name in oldest ? oldest[name] : "-") tab bytes[name]
                all += count[name]; all_bytes += bytes[name]
            }
            if (have_total) print "total" tab mta tab (total > all ? total : all) tab (total_bytes ? total_bytes : all_bytes)
            for (shown = 0; shown < 5; shown++) {  # the five commonest reasons
                best = ""; for (text in reasons) if (best == "" || reasons[text] > reasons[best]) best = text
                if (best == "") break
                print "reason" tab mta tab reasons[best] tab best; delete reasons[best]
            }
        }'
}

pkg_version() {
    have pkg || return 0
    pkg -N >/dev/null 2>&1 || return 0
    echo "<<<pkg_version:sep(0)>>>"
    cached pkg-version 21600 pkg version -vRL=
}

# Files in /etc that a merge left unfinished: etcupdate's conflicts and warnings, and any file
# holding a conflict marker (a hand merge, or mergemaster's).
unmerged_config() {
    echo "<<<config_unmerged:sep(9)>>>"
    rc=0
    if have etcupdate && [ -d "$ROOT/var/db/etcupdate" ]; then
        run etcupdate status -D "${ROOT:-/}" 2>/dev/null | awk -v tab="$TAB" '
            /^  C / { sub(/^  C /, ""); print "conflict" tab $0; next }
            /^Warnings:/ { warnings = 1; next }
            warnings && /^  / { sub(/^  /, ""); print "warning" tab $0 }'
    fi
    markers=$(run grep -rIn -m 1 -E '^(<<<<<<<|>>>>>>>)' "$ROOT/etc" 2>/dev/null)
    [ "$?" -eq 124 ] && rc=124
    [ -n "$markers" ] && printf '%s\n' "$markers" | awk -v tab="$TAB" -v root="$ROOT" '{
        path = $0; sub(/:[0-9]+:.*$/, "", path); line = substr($0, length(path) + 2); sub(/:.*$/, "", line)
        print "marker" tab substr(path, length(root) + 1) tab line }'
    files=$(find "$ROOT/etc" -type f 2>/dev/null | wc -l | tr -d ' ')
    cut="-"
    [ "$rc" -eq 124 ] && cut="time"
    echo "scanned${TAB}${files}${TAB}${cut}${TAB}0"
    return "$rc"
}

# The keys that may log in, per user: type, SHA256 fingerprint (from ssh-keygen), comment and
# whether the line carries options. Never a key itself.
ssh_keys() {
    have ssh-keygen || return 0
    patterns=""
    if have sshd; then
        patterns=$(run sshd -T -C user=root,host=localhost,addr=127.0.0.1 2>/dev/null \
            | awk 'tolower($1) == "authorizedkeysfile" { $1 = ""; print }')
    fi
    [ -n "$patterns" ] || patterns=".ssh/authorized_keys .ssh/authorized_keys2"
    key_file=$(mktemp "${TMPDIR:-/tmp}/watchkeeper-key.XXXXXX") || return 1
    echo "<<<ssh_authorized_keys:sep(9)>>>"
    awk -F: 'NF >= 7 && $6 ~ /^\// { print $1 ":" $6 }' "$ROOT/etc/passwd" | while IFS=: read -r user home; do
        for pattern in $patterns; do
            [ "$pattern" = none ] && continue
            path=$(printf '%s\n' "$pattern" | awk -v h="$home" -v u="$user" '{
                out = ""; s = $0
                while ((i = index(s, "%")) > 0) {
                    c = substr(s, i + 1, 1); out = out substr(s, 1, i - 1)
                    out = out (c == "h" ? h : c == "u" ? u : c == "%" ? "%" : "%" c); s = substr(s, i + 2)
                }
                out = out s; if (substr(out, 1, 1) != "/") out = h "/" out; print out }')
            [ -e "$ROOT$path" ] || continue
            if [ ! -r "$ROOT$path" ]; then
                printf '%s\t%s\tnoaccess\t-\t-\t-\n' "$user" "$path"
                continue
            fi
            head -n 2000 "$ROOT$path" | awk -v types=" $SSH_KEY_TYPES " -v tab="$TAB" '
                /^[ \t]*(#|$)/ { next }
                { for (i = 1; i < NF; i++) if (index(types, " " $i " ")) {
                      comment = ""; for (j = i + 2; j <= NF; j++) comment = comment (j > i + 2 ? " " : "") $j
                      print $i tab $(i + 1) tab comment tab (i > 1 ? "options" : "-"); next }
                  print "unreadable" }' | while IFS="$TAB" read -r type blob comment options; do
                fingerprint=""
                if [ "$type" != unreadable ]; then
                    printf '%s %s\n' "$type" "$blob" >"$key_file"
                    fingerprint=$(ssh-keygen -l -E sha256 -f "$key_file" 2>/dev/null | awk '{ print $2 }')
                fi
                if [ -z "$fingerprint" ]; then
                    printf '%s\t%s\tunreadable\t-\t-\t-\n' "$user" "$path"
                else
                    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$user" "$path" "$type" "$fingerprint" "$comment" "$options"
                fi
            done
        done
    done
    rm -f "$key_file"
}

pkg_audit() {
    have pkg || return 0
    pkg -N >/dev/null 2>&1 || return 0  # pkg(8) is only the bootstrap until a package is installed
    echo "<<<pkg_audit:sep(0)>>>"
    cached pkg-audit 3600 pkg audit -F
}

check_mk; note check_mk $?
cpu; note cpu $?
memory; note mem $?
uptime_; note uptime $?
filesystems; note df $?
mounts; note mounts $?
interfaces; note interfaces $?
diskio; note diskio $?
timesync; note timesync $?
mail_queue; note mail_queue $?
zfs; note zfs $?
smart; note smart $?
raid_controllers; note megaraid $?
geom_raid; note geom_raid $?
disks; note disks $?
reboot_needed; note reboot_needed $?
freebsd_update; note freebsd_update $?
pkg_audit; note pkg_audit $?
pkg_version; note pkg_version $?
unmerged_config; note unmerged_config $?
ssh_keys; note ssh_keys $?
if [ -n "$FAILED" ]; then
    echo "<<<check_mk>>>"
    echo "FailedCollectors:$FAILED"
fi
if [ -n "${WATCHKEEPER_AGENT_WAIT:-}" ]; then
    wait  # for background fetches: a first run by hand, or a test, sees their result on the next run
fi
exit 0

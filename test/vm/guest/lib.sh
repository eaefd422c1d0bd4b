# Helpers for guest scripts run by test/vm/lib/vm.ts (source it: . test/vm/guest/lib.sh).
# Results go to $RA6_VM_OUT, the read-write share the host reads after the VM powers off:
#   result NAME ok|fail [DETAIL]   one line of results.jsonl, asserted on by the host test
#   save NAME < data               a file NAME in the share, for the host to parse (vm.files)
#   step MESSAGE                   a progress line on the captured console
set -u
: "${RA6_VM_OUT:?run this script through test/vm/lib/vm.ts}"
PY=/usr/bin/python3

# JSON string literal of $1, in bash alone (python costs a second per start under TCG).
json_string() {
	local s=$1 out='' c i
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		$'\n') out+='\n' ;;
		$'\t') out+='\t' ;;
		$'\r') out+='\r' ;;
		[[:cntrl:]]) printf -v c '\\u%04x' "'$c"; out+=$c ;;
		*) out+=$c ;;
		esac
	done
	printf '"%s"' "$out"
}

result() {
	local name=$1 status=$2 detail=${3:-}
	local ok=false
	[ "$status" = ok ] && ok=true
	printf '{"name":%s,"ok":%s,"detail":%s}\n' "$(json_string "$name")" "$ok" \
		"$(json_string "$detail")" >>"$RA6_VM_OUT/results.jsonl"
}

# check NAME COMMAND...: result NAME ok if the command succeeds, with its output as detail.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then result "$name" ok "$out"; else result "$name" fail "$out"; fi
}

save() {
	mkdir -p "$(dirname "$RA6_VM_OUT/$1")"
	cat >"$RA6_VM_OUT/$1"
}

step() {
	printf '[guest %s] %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$*"
}

# Waits until COMMAND succeeds, up to SECONDS (fractions allowed). Returns 1 on timeout.
wait_for() {
	local seconds=$1 deadline
	shift
	deadline=$(awk -v s="$seconds" -v now="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{print now+s}')
	until "$@" >/dev/null 2>&1; do
		if awk -v d="$deadline" -v now="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{exit !(now>d)}'; then
			return 1
		fi
		sleep 0.05
	done
}

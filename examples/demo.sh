#!/usr/bin/env bash
# The 30-second tour of retrograde: deploy, move keystone to another node,
# renumber a node, look at the history after each step, and find and undo a
# hand edit (drift).
#
# Everything happens in a directory of its own, a fresh copy of
# examples/deployment (RETROGRADE_DEMO_DIR, else a new temporary directory), so
# the demo never meets the README tour's store or files in examples/deployment:
# the handlers render configuration files under its out/, and the store is a
# throwaway SQLite file there too unless RETROGRADE_DB is already set. No root,
# no network.
#
# Needs `retrograde` on PATH and a `python3` on PATH that can import jinja2
# (the handlers run `python3 render.py ...`).
set -euo pipefail

source_dir="$(cd "$(dirname "$0")/deployment" && pwd)"
demo_dir="${RETROGRADE_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/retrograde-demo.XXXXXX")}"
mkdir -p "$demo_dir"
cp -R "$source_dir/." "$demo_dir/"
cd "$demo_dir"

if [ -t 1 ]; then bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'; else bold='' dim='' off=''; fi

step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
# Show a command line, then run it (a string, so that pipes work).
run() {
    printf '%s$ %s%s\n' "$dim" "$1" "$off"
    eval "$1"
}

if ! command -v retrograde >/dev/null 2>&1; then
    echo "demo.sh: retrograde is not on PATH (install it, or activate its virtualenv)" >&2
    exit 1
fi

rm -rf out
mkdir -p out
if ! python3 -c 'import jinja2' >/dev/null 2>&1; then
    # Let the handlers use the interpreter retrograde itself runs on, which has
    # jinja2, through a private python3 link (so PATH finds the same retrograde).
    interpreter=$(head -n 1 "$(command -v retrograde)" | sed -n 's/^#! *//p' | cut -d ' ' -f 1)
    if [ -z "$interpreter" ] || ! "$interpreter" -c 'import jinja2' >/dev/null 2>&1; then
        echo "demo.sh: the handlers need a python3 on PATH that can import jinja2" >&2
        exit 1
    fi
    mkdir -p out/.bin
    ln -s "$interpreter" out/.bin/python3
    PATH="$PWD/out/.bin:$PATH"
    export PATH
fi
export RETROGRADE_DB="${RETROGRADE_DB:-$PWD/out/demo.db}"

step "1. Stage the initial deployment: node1 runs db, mq and keystone1; node2 runs haproxy"
run 'retrograde stage stack-v1.yaml'

step "2. What would change, input by input (secrets show as ***)"
run 'retrograde diff'

step "3. The plan: one action per resource, producers before consumers"
run 'retrograde plan'

step "4. Apply it: every finished action writes one commit"
run 'retrograde apply --yes -m "initial deployment"'

step "5. The commit log, newest first"
run 'retrograde log'

step "6. What the handlers rendered"
run "find out -name '*.conf' | sort"
run 'cat out/node2/haproxy.conf'

step "7. Move keystone from node1 to node2 (keystone1 gone, keystone2 new, haproxy follows)"
run 'retrograde stage stack-v2.yaml'

step "8. Three actions, not four: run keystone2 -> update haproxy -> remove keystone1"
run 'retrograde plan'

step "9. Apply the move"
run 'retrograde apply --yes -m "move keystone to node2"'

step "10. The last five commits"
run 'retrograde log --limit 5'

step "11. haproxy's committed state now points at keystone2"
run 'retrograde state haproxy'
run "find out -name '*.conf' | sort"
run "grep -A 3 '^backend keystone' out/node2/haproxy.conf"

step "12. Renumber node1 (10.20.0.2 -> 10.20.0.12): the new address flows through the connections"
run 'retrograde stage stack-v3.yaml'

step "13. The plan: update node1 -> update db, mq -> update keystone2"
run 'retrograde plan'

step "14. Apply the renumbering"
run 'retrograde apply --yes -m "renumber node1"'

step "15. keystone2 follows the database and the queue to their new address"
run 'retrograde log --limit 4'
run "grep -E '^(connection|transport_url)' out/node2/keystone2.conf"

step "16. Name this point, then undo the whole renumbering (apply 3): node1 and its consumers go back"
run 'retrograde checkpoint renumbered -m "after renumbering node1"'
run 'retrograde revert --apply 3'
run 'retrograde apply --yes -m "undo the renumbering"'
run "grep -E '^(connection|transport_url)' out/node2/keystone2.conf"

step "17. Who set each input of haproxy, and is the log intact?"
run 'retrograde blame haproxy'
run 'retrograde verify'

step "18. Someone edits haproxy.conf by hand (port 80 -> 8080): refresh runs the read actions"
run "sed -i.bak 's/^\\( *bind .*\\):80\$/\\1:8080/' out/node2/haproxy.conf && rm out/node2/haproxy.conf.bak"
run 'retrograde refresh || echo "exit $? (drift found)"'

step "19. Restore: record what was seen, stage the way back, apply it"
run 'retrograde refresh --restore -m "hand edit of haproxy"'
run 'retrograde apply --yes -m "restore haproxy"'
run "grep ' bind ' out/node2/haproxy.conf"
run 'retrograde refresh'

printf '\n%sDone.%s Store: %s; rendered files under %s/out/\n' "$bold" "$off" "$RETROGRADE_DB" "$PWD"

#!/bin/sh
# Cairn's tor container (deploy/tor/Dockerfile, docker-compose.yml).
#
#   cairn-tor              run tor with the two onion services (the default)
#   cairn-tor addresses    make the onion keys if needed, print both addresses and exit; tor's
#                          network stays off, so nothing is published
#
# On a first start tor makes the onion keys with its network off. Each start then copies the two
# (public) addresses where intake can read them for `intake check`, and the courier's client keys
# (*.auth, public halves) into the courier service's authorized_clients/. Without a client key
# tor would serve the courier onion to anyone, so tor does not start: the courier onion is for
# client authorization only.
set -eu

torrc=${CAIRN_TORRC:-/etc/tor/cairn/torrc.default}
tor_dir=${CAIRN_TOR_DIR:-/var/lib/tor}
clients_in=${CAIRN_COURIER_CLIENTS:-/etc/cairn/courier-clients}
names=${CAIRN_ONION_NAMES:-/run/cairn-onion}
clients=$tor_dir/cairn-courier/authorized_clients

have_keys() {
    [ -s "$tor_dir/cairn-source/hostname" ] && [ -s "$tor_dir/cairn-courier/hostname" ]
}

if ! have_keys; then
    echo "cairn-tor: making the onion keys (network off: nothing is published)" >&2
    tor -f "$torrc" --hush --DisableNetwork 1 --Log "warn stderr" >&2 &
    pid=$!
    tries=0
    until have_keys; do
        tries=$((tries + 1))
        if [ "$tries" -gt 240 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "cairn-tor: tor made no onion keys (see its messages above)" >&2
            kill "$pid" 2>/dev/null || true
            exit 1
        fi
        sleep 0.25
    done
    kill "$pid"
    wait "$pid" || true
fi

for service in source courier; do
    install -m 644 "$tor_dir/cairn-$service/hostname" "$names/$service.hostname"
done

if [ "${1:-}" = addresses ]; then
    echo "source onion:  $(cat "$names/source.hostname")"
    echo "courier onion: $(cat "$names/courier.hostname")"
    exit 0
fi

mkdir -p "$clients"
chmod 700 "$clients"
rm -f "$clients"/*.auth
found=0
for auth in "$clients_in"/*.auth; do
    [ -f "$auth" ] || continue
    install -m 600 "$auth" "$clients/"
    found=$((found + 1))
done
if [ "$found" -eq 0 ]; then
    cat >&2 <<MESSAGE
cairn-tor: no courier client key (NAME.auth) in deploy/courier-clients/, so tor does not start:
without one, tor would serve the courier onion to anyone. Make one (docs/operators.md):
  docker-compose run --rm tor addresses          # prints both onion addresses
  intake onion-auth --name courier --onion ADDRESS_OF_THE_COURIER_ONION
                                                 # on the courier's machine; keep the secret half
and save the printed descriptor:x25519:... line as deploy/courier-clients/courier.auth.
MESSAGE
    exit 78
fi

echo "cairn-tor: source onion $(cat "$names/source.hostname"), $found courier client key(s)" >&2
exec tor -f "$torrc" "$@"

#!/bin/sh
# Makes the scaled profile's secrets (docker-compose.yml) in ./secrets/, or in the folder given:
# random passwords for PostgreSQL and Redis, and the two URLs intake reads them from. Never
# overwrites a file that exists.
#
# The folder is 0700 and yours. The files in it are 0644 because Docker Compose without Swarm
# mounts them into the containers as they are, and the containers' users (postgres, redis, cairn)
# are not you; the 0700 folder keeps the host's other users out.
set -eu

dir=${1:-secrets}
mkdir -p "$dir"
chmod 700 "$dir"

password() {
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

write() {
    if [ -e "$dir/$1" ]; then
        echo "$dir/$1 exists; left as it is" >&2
        return
    fi
    (umask 022 && printf '%s\n' "$2" >"$dir/$1")
    echo "wrote $dir/$1" >&2
}

if [ -e "$dir/postgres_password" ]; then
    postgres=$(cat "$dir/postgres_password")
else
    postgres=$(password)
fi
if [ -e "$dir/redis.conf" ]; then
    redis=$(sed -n 's/^requirepass //p' "$dir/redis.conf")
else
    redis=$(password)
fi

write postgres_password "$postgres"
write database_url "postgresql+psycopg://cairn:$postgres@postgres:5432/cairn"
write redis.conf "requirepass $redis"
write limiter_storage_uri "redis://:$redis@redis:6379/0"

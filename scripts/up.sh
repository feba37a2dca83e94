#!/usr/bin/env bash
# `make up`: the Procfile's processes and the STP sandbox, on this machine's MariaDB, RabbitMQ and Redis.
# Every address is a variable, so that two checkouts (or a test run) can run side by side:
#   DEV_DATABASE_URL, DEV_WEB_BIND, DEV_SANDBOX_PORT, DEV_RABBITMQ_VHOST, DEV_REDIS_URL, DEV_WORKER_METRICS_PORT,
#   DEV_ENV_FILE.
# It writes the settings it uses to ./.env (DEV_ENV_FILE; unless you keep a .env of your own), so that
# `dispersa` commands run from this directory use the same database.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DEV_DATABASE_URL:=mysql+pymysql://root@127.0.0.1:3306/dispersa}"
: "${DEV_WEB_BIND:=127.0.0.1:8000}"
: "${DEV_SANDBOX_PORT:=7024}"
: "${DEV_RABBITMQ_VHOST:=/}"
: "${DEV_REDIS_URL:=redis://127.0.0.1:6379/0}"
: "${DEV_WORKER_METRICS_PORT:=9191}"
: "${DEV_ENV_FILE:=.env}"

if [ "$DEV_RABBITMQ_VHOST" = "/" ]; then
  vhost="%2F"
else
  vhost="$DEV_RABBITMQ_VHOST"
  if command -v rabbitmqctl >/dev/null; then
    rabbitmqctl -q add_vhost "$DEV_RABBITMQ_VHOST" >/dev/null 2>&1 || true
    rabbitmqctl -q set_permissions -p "$DEV_RABBITMQ_VHOST" guest '.*' '.*' '.*' >/dev/null
  fi
fi

# the development data key: made once and kept, since what it sealed cannot be read without it
mkdir -p .dev
[ -s .dev/data.keys ] || .venv/bin/python -c "from adapters.sealing import generate_key; print(generate_key())" \
  > .dev/data.keys

settings=(
  "DISPERSA_DATABASE_URL=$DEV_DATABASE_URL"
  "DISPERSA_BROKER=rabbitmq"
  "DISPERSA_RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/$vhost"
  "DISPERSA_REDIS_URL=$DEV_REDIS_URL"
  "DISPERSA_WEB_BIND=$DEV_WEB_BIND"
  "DISPERSA_WORKER_METRICS_PORT=$DEV_WORKER_METRICS_PORT"
  "DISPERSA_SANDBOX_PORT=$DEV_SANDBOX_PORT"
  "DISPERSA_STP_BASE_URL=http://127.0.0.1:$DEV_SANDBOX_PORT"
  "DISPERSA_STP_EFWS_URL=http://127.0.0.1:$DEV_SANDBOX_PORT"
  "DISPERSA_STP_PRIVATE_KEY_PATH=$PWD/.dev/stp.pem"
  "DISPERSA_STP_PASSPHRASE=dev"
  "DISPERSA_WEBHOOK_SECRET=dev-webhook-secret"
  "DISPERSA_GSMA_CALLBACK_SECRET=dev-gsma-callback-secret"
  "DISPERSA_DATA_KEYS=$(cat .dev/data.keys)"
  "DISPERSA_GSMA_BASE_URL=http://127.0.0.1:$DEV_SANDBOX_PORT"
  "DISPERSA_MOJALOOP_BASE_URL=http://127.0.0.1:$DEV_SANDBOX_PORT"
  "DISPERSA_PUBLIC_URL=http://$DEV_WEB_BIND"
  "DISPERSA_BULK_STORAGE_DIR=$PWD/.dev/batches"
  "DISPERSA_CALLBACK_ALLOW=127.0.0.1,::1"
)
MARK="# written by make up; delete this line to keep your own settings"
if [ ! -e "$DEV_ENV_FILE" ] || [ "$(head -n 1 "$DEV_ENV_FILE")" = "$MARK" ]; then
  { echo "$MARK"; printf '%s\n' "${settings[@]}"; } > "$DEV_ENV_FILE"
  echo "settings written to $DEV_ENV_FILE: dispersa commands run here use them"
else
  echo "$DEV_ENV_FILE is yours and was left alone; to use the dev stack from another shell:"
  printf '  export %s\n' "${settings[@]}"
fi
export "${settings[@]}"
export PATH="$PWD/.venv/bin:$PATH"
command -v honcho >/dev/null || { echo "honcho, which runs Procfile.dev, is missing: it is in the tools extra (make install" \
  "installs it; or .venv/bin/pip install -e '.[tools]')" >&2; exit 1; }

dispersa db create
dispersa db upgrade

honcho start -f Procfile.dev -e "$DEV_ENV_FILE" &
honcho=$!
trap 'kill -TERM "$honcho" 2>/dev/null || true; wait "$honcho" 2>/dev/null || true' INT TERM EXIT
until python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "http://$DEV_WEB_BIND/health" 2>/dev/null; do
  kill -0 "$honcho" 2>/dev/null || { echo "the processes stopped before the API answered" >&2; exit 1; }
  sleep 1
done
echo
echo "API ready at http://$DEV_WEB_BIND; create a key with: .venv/bin/dispersa apikey create --role admin --owner YOU@EXAMPLE.COM"
echo "(or put the commands on your PATH first: . .venv/bin/activate)"
echo
wait "$honcho"

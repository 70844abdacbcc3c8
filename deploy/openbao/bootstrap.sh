#!/bin/sh
# One-shot set-up of OpenBao for Gatehouse's `openbao` compose profile (compose.yaml runs it as the
# `openbao-bootstrap` service, in the OpenBao image, with the `bao` CLI). Safe to run again: every
# step checks what is already there, and a second run only unseals, renews Gatehouse's service
# token and rewrites the same settings.
#
# FOR EVALUATION ONLY. It initialises OpenBao with ONE unseal key share and keeps that key and the
# root token in the bootstrap's own volume ($STATE_DIR), so it can unseal again after a restart.
# Production must initialise with several key shares held by different people or use auto-unseal
# (a `seal` stanza: KMS, transit, PKCS#11), serve TLS, and revoke the root token after set-up.
#
# What it sets up (paths and parameters from openbao.org/api-docs):
#   1. init (1 share) + unseal                 sys/init, sys/unseal
#   2. userpass at $USERPASS_MOUNT             sys/auth/:path
#   3. TOTP login MFA method + enforcement     identity/mfa/method/totp, identity/mfa/login-enforcement/gatehouse
#      on that mount: nobody without TOTP can sign in through it.
#   4. policies `gatehouse` (the service token) and `gatehouse-user` (every userpass user)
#   5. an orphan periodic service token with only `gatehouse`, renewed on every run
#   6. identity group $ADMIN_GROUP, users $DEMO_USER and $ADMIN_USER (the latter in the group), each
#      with an identity entity (metadata name/email), a userpass alias and a TOTP secret. Their
#      password and otpauth URL are printed once, when the user is created.
#   7. Gatehouse's settings as a JSON config file ($OUT_DIR/gatehouse.json, mode 0600, owned by
#      $CONFIG_OWNER), which the Gatehouse container reads through GATEHOUSE_CONFIG.
# The root token and Gatehouse's service token are never printed.
set -eu
umask 077

: "${BAO_ADDR:?set BAO_ADDR to the OpenBao API address, e.g. http://openbao:8200}"
STATE_DIR=${STATE_DIR:-/openbao-init}
OUT_DIR=${OUT_DIR:-/gatehouse-config}
CONFIG_OWNER=${CONFIG_OWNER:-1000:1000}
USERPASS_MOUNT=${USERPASS_MOUNT:-userpass}
KUBERNETES_MOUNT=${KUBERNETES_MOUNT:-kubernetes}
ADMIN_GROUP=${ADMIN_GROUP:-gatehouse-admins}
DEMO_USER=${DEMO_USER:-demo}
ADMIN_USER=${ADMIN_USER:-admin}
MAIL_DOMAIN=${MAIL_DOMAIN:-example.org}
TOTP_ISSUER=${TOTP_ISSUER:-Gatehouse}
# The service token's period; OpenBao caps it at the system max TTL (768h unless configured).
SERVICE_TOKEN_PERIOD=${SERVICE_TOKEN_PERIOD:-768h}
# A user's OpenBao token lifetime, which is also the longest a Gatehouse session can last.
USER_TOKEN_TTL=${USER_TOKEN_TTL:-12h}
# Gatehouse's wrap TTL for API tokens must fit under this (GATEHOUSE_OPENBAO_WRAP_TTL, max 1h).
MAX_WRAP_TTL=${MAX_WRAP_TTL:-1h}
export BAO_ADDR
unset BAO_TOKEN VAULT_TOKEN 2>/dev/null || true

log() { printf 'openbao-bootstrap: %s\n' "$*"; }
die() {
  printf 'openbao-bootstrap: error: %s\n' "$*" >&2
  exit 1
}

is_uuid() {
  case $1 in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) return 0 ;;
    *) return 1 ;;
  esac
}

# Names end up in policy text, API paths and JSON: allow only what userpass and mount paths allow.
check_name() {
  case $2 in
    '' | -* | .* | *[!A-Za-z0-9_.-]*) die "$1 must be letters, digits, '_', '-' or '.' (got '$2')" ;;
  esac
}
check_name USERPASS_MOUNT "$USERPASS_MOUNT"
check_name KUBERNETES_MOUNT "$KUBERNETES_MOUNT"
check_name ADMIN_GROUP "$ADMIN_GROUP"
check_name DEMO_USER "$DEMO_USER"
check_name ADMIN_USER "$ADMIN_USER"
check_name MAIL_DOMAIN "$MAIL_DOMAIN"
case $DEMO_USER$ADMIN_USER in
  *[A-Z]*) die "DEMO_USER and ADMIN_USER must be lower case (userpass lower-cases usernames)" ;;
esac
case $BAO_ADDR in
  http://* | https://*) ;;
  *) die "BAO_ADDR must be an http(s) URL" ;;
esac
case $BAO_ADDR in
  *[\"\\\ ]*) die "BAO_ADDR must not contain quotes, backslashes or spaces" ;;
esac

# `bao status` exits 0 when unsealed, 2 when sealed (or not initialised), 1 on error.
status_code() {
  rc=0
  bao status >/dev/null 2>&1 || rc=$?
  echo "$rc"
}
reachable() { [ "$(status_code)" != 1 ]; }
unsealed() { [ "$(status_code)" = 0 ]; }

wait_for() {
  what=$1
  shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 60 ] || die "timed out waiting for $what"
    sleep 1
  done
}

random_password() {
  # 24 characters from [A-Za-z0-9]: about 143 bits, and safe to embed in JSON.
  pw=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24)
  [ "${#pw}" -eq 24 ] || die "could not read /dev/urandom"
  printf '%s' "$pw"
}

mkdir -p "$STATE_DIR" "$OUT_DIR"
chmod 0700 "$STATE_DIR"

# --- 1. initialise and unseal ---------------------------------------------------------------------
wait_for "OpenBao at $BAO_ADDR" reachable

init_rc=0
bao operator init -status >/dev/null 2>&1 || init_rc=$?
case $init_rc in
  0) log "OpenBao is initialised" ;;
  2)
    log "initialising OpenBao (1 key share: evaluation only)"
    # A key and token left from an earlier server (its data volume removed) are useless now.
    rm -f "$STATE_DIR/unseal-key" "$STATE_DIR/root-token" "$STATE_DIR/service-token"
    bao operator init -key-shares=1 -key-threshold=1 >"$STATE_DIR/init.out"
    awk -F': ' '/^Unseal Key 1:/ { printf "%s", $2 }' "$STATE_DIR/init.out" >"$STATE_DIR/unseal-key"
    awk -F': ' '/^Initial Root Token:/ { printf "%s", $2 }' "$STATE_DIR/init.out" >"$STATE_DIR/root-token"
    rm -f "$STATE_DIR/init.out"
    [ -s "$STATE_DIR/unseal-key" ] && [ -s "$STATE_DIR/root-token" ] || die "could not read the unseal key and root token from 'bao operator init'"
    ;;
  *) die "cannot reach OpenBao at $BAO_ADDR" ;;
esac

if [ "$(status_code)" = 2 ]; then
  [ -s "$STATE_DIR/unseal-key" ] || die "OpenBao is sealed and $STATE_DIR/unseal-key is missing: unseal it yourself, then run this again"
  log "unsealing"
  # key=@file: the key is read from the file, never put on a command line.
  bao write sys/unseal key=@"$STATE_DIR/unseal-key" >/dev/null
fi
wait_for "OpenBao to unseal" unsealed

[ -s "$STATE_DIR/root-token" ] || die "no root token in $STATE_DIR/root-token (OpenBao was initialised elsewhere): put a root token there and run again"
BAO_TOKEN=$(cat "$STATE_DIR/root-token")
export BAO_TOKEN
wait_for "OpenBao to accept requests" bao token lookup

# --- 2. userpass ------------------------------------------------------------------------------------
if ! bao read "sys/auth/$USERPASS_MOUNT" >/dev/null 2>&1; then
  log "enabling userpass at auth/$USERPASS_MOUNT"
  bao auth enable -path="$USERPASS_MOUNT" -description="Gatehouse sign-in" userpass >/dev/null
fi
ACCESSOR=$(bao read -field=accessor "sys/auth/$USERPASS_MOUNT")
case $ACCESSOR in
  auth_userpass_*) ;;
  *) die "auth/$USERPASS_MOUNT is not a userpass mount" ;;
esac

# --- 3. TOTP method and login enforcement ------------------------------------------------------------
# method_name makes this idempotent: writing the same name again updates that method and answers
# with its id.
MFA_METHOD_ID=$(bao write -field=method_id identity/mfa/method/totp \
  method_name=gatehouse-totp issuer="$TOTP_ISSUER" period=30 key_size=20 algorithm=SHA1 digits=6 skew=1 max_validation_attempts=5)
is_uuid "$MFA_METHOD_ID" || die "unexpected TOTP method id '$MFA_METHOD_ID'"
log "TOTP method $MFA_METHOD_ID"

printf '{"mfa_method_ids":["%s"],"auth_method_accessors":["%s"]}' "$MFA_METHOD_ID" "$ACCESSOR" |
  bao write identity/mfa/login-enforcement/gatehouse - >/dev/null
log "login enforcement 'gatehouse': every login on auth/$USERPASS_MOUNT needs a TOTP code"

# --- 4. policies -----------------------------------------------------------------------------------
# Gatehouse's service token: exactly the calls Gatehouse makes with it, nothing else. Logins
# (auth/$USERPASS_MOUNT/login/*), sys/mfa/validate and sys/health are unauthenticated and need no
# grant. LIST requests are matched on the path with a trailing slash, hence `.../users/` below.
bao policy write gatehouse - >/dev/null <<EOF
# Find the userpass mount's accessor.
path "sys/auth" {
  capabilities = ["read"]
}

# Check at start-up and in /readyz that the service token still works (no default policy), and
# renew it (it is periodic) every hour while Gatehouse runs.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Claims: the entity (metadata name/email, aliases, groups) and group names. Read only:
# Gatehouse never writes entities or groups; consents stay in Gatehouse's database.
path "identity/entity/id/+" {
  capabilities = ["read"]
}
path "identity/lookup/entity" {
  capabilities = ["update"]
  allowed_parameters = {
    "alias_name"           = []
    "alias_mount_accessor" = ["$ACCESSOR"]
  }
}
path "identity/group/id/" {
  capabilities = ["list"]
}
path "identity/group/id/+" {
  capabilities = ["read"]
}

# Admin user list, and self-service password change (after the old password was checked by a login).
path "auth/$USERPASS_MOUNT/users/" {
  capabilities = ["list"]
}
path "auth/$USERPASS_MOUNT/users/+/password" {
  capabilities = ["update"]
  allowed_parameters = {
    "password" = []
  }
}

# TOTP enrolment and reset, for Gatehouse's own method only.
path "identity/mfa/method/totp/admin-generate" {
  capabilities = ["update"]
  allowed_parameters = {
    "method_id" = ["$MFA_METHOD_ID"]
    "entity_id" = []
  }
}
path "identity/mfa/method/totp/admin-destroy" {
  capabilities = ["update"]
  allowed_parameters = {
    "method_id" = ["$MFA_METHOD_ID"]
    "entity_id" = []
  }
}
EOF

# Every userpass user's own token, which Gatehouse holds server-side for the session.
bao policy write gatehouse-user - >/dev/null <<EOF
# Wrapped API tokens: a child of the session's token. Creating one is only allowed wrapped, so
# the token itself is never handed out in the clear.
path "auth/token/create" {
  capabilities = ["update"]
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = "$MAX_WRAP_TTL"
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Kubeconfig downloads: service-account tokens from the kubernetes secrets engine. Narrow "+" to
# the role Gatehouse is configured with (GATEHOUSE_KUBERNETES_ROLE) when you use this.
path "$KUBERNETES_MOUNT/creds/+" {
  capabilities = ["update"]
}
EOF
log "policies 'gatehouse' and 'gatehouse-user' written"

# --- 5. Gatehouse's service token ---------------------------------------------------------------------
# Periodic and orphan: it has no maximum lifetime as long as it is renewed within the period, it
# does not die with the root token that created it, and it can be revoked on its own at any time.
# Gatehouse renews it every hour while it runs (auth/token/renew-self); every run of this script
# renews it too, so a Gatehouse stopped for longer than the period needs this script (or a new token).
SERVICE_TOKEN=
if [ -s "$STATE_DIR/service-token" ]; then
  candidate=$(cat "$STATE_DIR/service-token")
  if accessor=$(BAO_TOKEN=$candidate bao token lookup -field=accessor 2>/dev/null) &&
    bao write auth/token/renew-accessor accessor="$accessor" >/dev/null 2>&1; then
    SERVICE_TOKEN=$candidate
    log "service token still valid; renewed for $SERVICE_TOKEN_PERIOD"
  fi
fi
if [ -z "$SERVICE_TOKEN" ]; then
  SERVICE_TOKEN=$(bao token create -orphan -period="$SERVICE_TOKEN_PERIOD" -policy=gatehouse -no-default-policy \
    -display-name=gatehouse -metadata=service=gatehouse -field=token)
  printf '%s' "$SERVICE_TOKEN" >"$STATE_DIR/service-token"
  log "service token created (policy 'gatehouse', period $SERVICE_TOKEN_PERIOD)"
fi
case $SERVICE_TOKEN in
  '' | *[!A-Za-z0-9._-]*) die "unexpected service token format" ;;
esac

# --- 6. admin group and users -----------------------------------------------------------------------
if ! bao read "identity/group/name/$ADMIN_GROUP" >/dev/null 2>&1; then
  printf '{"type":"internal","metadata":{"description":"Gatehouse administrators"}}' |
    bao write "identity/group/name/$ADMIN_GROUP" - >/dev/null
  log "identity group '$ADMIN_GROUP' created"
fi

uuid_in() { grep -Eo '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' || true; }

add_to_admin_group() {
  members=$(bao read -format=json -field=member_entity_ids "identity/group/name/$ADMIN_GROUP" 2>/dev/null | uuid_in)
  list="\"$1\""
  for m in $members; do
    [ "$m" = "$1" ] && return 0
    list="$list,\"$m\""
  done
  printf '{"member_entity_ids":[%s]}' "$list" | bao write "identity/group/name/$ADMIN_GROUP" - >/dev/null
}

# ensure_user NAME "Display Name" admin|user
# An existing userpass user is left alone (its password is not known here). A new one gets an
# entity with a userpass alias and profile metadata, a fresh TOTP secret and a random password,
# in that order, so that the login exists only once everything it needs does.
ensure_user() {
  name=$1
  display=$2
  role=$3
  if bao read "auth/$USERPASS_MOUNT/users/$name" >/dev/null 2>&1; then
    log "user '$name' exists; left unchanged"
    return 0
  fi

  entity=$(bao write -field=id identity/lookup/entity alias_name="$name" alias_mount_accessor="$ACCESSOR" 2>/dev/null || true)
  is_uuid "$entity" || entity=$(bao read -field=id "identity/entity/name/$name" 2>/dev/null || true)
  if ! is_uuid "$entity"; then
    entity=$(printf '{"name":"%s"}' "$name" | bao write -field=id identity/entity -)
    is_uuid "$entity" || die "could not create an entity for '$name'"
  fi
  if ! is_uuid "$(bao write -field=id identity/lookup/entity alias_name="$name" alias_mount_accessor="$ACCESSOR" 2>/dev/null || true)"; then
    bao write identity/entity-alias name="$name" canonical_id="$entity" mount_accessor="$ACCESSOR" >/dev/null
  fi
  printf '{"metadata":{"name":"%s","email":"%s@%s","email_verified":"true"}}' "$display" "$name" "$MAIL_DOMAIN" |
    bao write "identity/entity/id/$entity" - >/dev/null
  if [ "$role" = admin ]; then
    add_to_admin_group "$entity"
  fi

  # A secret left by an interrupted earlier run would make admin-generate answer "exists".
  bao write identity/mfa/method/totp/admin-destroy method_id="$MFA_METHOD_ID" entity_id="$entity" >/dev/null
  otpauth=$(bao write -field=url identity/mfa/method/totp/admin-generate method_id="$MFA_METHOD_ID" entity_id="$entity")
  case $otpauth in
    otpauth://*) ;;
    *) die "could not generate a TOTP secret for '$name'" ;;
  esac

  password=$(random_password)
  printf '{"password":"%s","token_policies":["gatehouse-user"],"token_ttl":"%s","token_max_ttl":"%s"}' \
    "$password" "$USER_TOKEN_TTL" "$USER_TOKEN_TTL" | bao write "auth/$USERPASS_MOUNT/users/$name" - >/dev/null

  if [ "$role" = admin ]; then
    what="Admin user (in $ADMIN_GROUP, so a Gatehouse admin)"
  else
    what="Demo user"
  fi
  printf '\n  %s created. Shown only this once; add the otpauth URL to an authenticator app:\n' "$what"
  printf '    username: %s\n    password: %s\n    otpauth:  %s\n\n' "$name" "$password" "$otpauth"
}

ensure_user "$DEMO_USER" "Demo User" user
ensure_user "$ADMIN_USER" "Gatehouse Admin" admin

# --- 7. Gatehouse's settings ------------------------------------------------------------------------
[ -z "$CONFIG_OWNER" ] || chown "$CONFIG_OWNER" "$OUT_DIR"
chmod 0700 "$OUT_DIR"
tmp="$OUT_DIR/.gatehouse.json.$$"
printf '{"identityBackend":"openbao","openbao":{"address":"%s","token":"%s","mfaMethodId":"%s","userpassMount":"%s","kubernetesMount":"%s","adminGroup":"%s"}}\n' \
  "$BAO_ADDR" "$SERVICE_TOKEN" "$MFA_METHOD_ID" "$USERPASS_MOUNT" "$KUBERNETES_MOUNT" "$ADMIN_GROUP" >"$tmp"
[ -z "$CONFIG_OWNER" ] || chown "$CONFIG_OWNER" "$tmp"
chmod 0600 "$tmp"
mv -f "$tmp" "$OUT_DIR/gatehouse.json"
log "wrote $OUT_DIR/gatehouse.json for Gatehouse (mode 0600, owner $CONFIG_OWNER)"
log "done"

#!/bin/sh
# azd project-level postdeploy hook: subscribes the Function app's Event Grid blob trigger to BlobCreated
# events under uploads/. Idempotent: run it as often as you like (every `azd deploy` does); it creates
# the subscription or updates it in place with the current key and endpoint.
#
# Why a hook and not Bicep: the webhook URL must carry the host's `blobs_extension` system key, which
# exists only after the code with the blob trigger is deployed and the host has started (azd
# provisions before it deploys), and Event Grid validates the endpoint with a handshake only a running
# host can answer. Reading the key in Bicep would also store it in the deployment history.
#
# Why project-level: this subscription is what starts feeding the GPU queue, so it is created only once
# every service deployed (azd runs project hooks after the whole deploy succeeded) and only when the GPU
# worker really runs an image from this deployment's registry (checked below, because
# `azd deploy functions` alone runs this hook too).
#
# Failure policy: every `az` call names the subscription (the user's default `az account` may be another
# one); "the key is not there yet" (an empty answer, or the host runtime not answering while it starts)
# is waited for; any other error stops the hook at once with az's own message. The key never appears on
# a command line (where `ps` and shell history would show it): az reads it from a private temporary
# file (`--parameters @file`).
#
# Reads azd environment values (azd exports them to hooks): AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP,
# AZURE_FUNCTION_APP_NAME, AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME, AZURE_BLOB_TRIGGER_FUNCTION_NAME,
# AZURE_STORAGE_UPLOADS_CONTAINER, AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_DEADLETTER_CONTAINER,
# AZURE_GPU_WORKER_APP_NAME, AZURE_CONTAINER_REGISTRY_ENDPOINT. Run by hand with `azd env get-values` exported first.
# POSIX sh on purpose: azd runs posix hooks with `sh`, which is dash on Debian/Ubuntu.
set -eu

require() {
  eval "value=\${$1:-}"
  if [ -z "$value" ]; then
    echo "postdeploy: environment value $1 is not set; run through azd or export \`azd env get-values\` first." >&2
    exit 1
  fi
}

for name in AZURE_SUBSCRIPTION_ID AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME \
            AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME AZURE_BLOB_TRIGGER_FUNCTION_NAME \
            AZURE_STORAGE_UPLOADS_CONTAINER AZURE_STORAGE_ACCOUNT_NAME AZURE_STORAGE_DEADLETTER_CONTAINER \
            AZURE_GPU_WORKER_APP_NAME AZURE_CONTAINER_REGISTRY_ENDPOINT; do
  require "$name"
done

if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) is required to read the Functions key; install it and run 'az login'." >&2
  exit 1
fi

subscription_name="uploads-blob-created"
attempts="${BLOBS_EXTENSION_KEY_ATTEMPTS:-30}"
delay_seconds="${BLOBS_EXTENSION_KEY_DELAY_SECONDS:-10}"

# Private scratch space (mktemp -d is mode 0700) for az's stderr and the key; removed on exit.
umask 077
work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
errors="$work_dir/az-errors"

# Prints az's captured error output and stops the hook.
fail_with_az_error() {
  echo "postdeploy: $1 failed:" >&2
  cat "$errors" >&2
  exit 1
}

# 1. The GPU worker must run this deployment's image before any job may reach the queue.
if ! worker="$(az resource show \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_GPU_WORKER_APP_NAME" \
    --resource-type Microsoft.App/containerApps \
    --query "[properties.provisioningState, properties.template.containers[0].image]" \
    --output tsv 2>"$errors")"; then
  fail_with_az_error "reading the GPU worker $AZURE_GPU_WORKER_APP_NAME"
fi
# tsv puts a list on one line, tab-separated.
tab="$(printf '\t')"
worker_state="${worker%%"$tab"*}"
worker_image="${worker#*"$tab"}"
if [ "$worker_state" != "Succeeded" ]; then
  echo "postdeploy: the GPU worker $AZURE_GPU_WORKER_APP_NAME is in state '$worker_state', not Succeeded." \
       "Fix and redeploy it (azd deploy gpu-worker); uploads are not connected until it runs." >&2
  exit 1
fi
case "$worker_image" in
  "$AZURE_CONTAINER_REGISTRY_ENDPOINT"/*) ;;
  *)
    echo "postdeploy: the GPU worker $AZURE_GPU_WORKER_APP_NAME still runs '$worker_image', not an image from" \
         "$AZURE_CONTAINER_REGISTRY_ENDPOINT. Deploy it first (azd deploy gpu-worker); uploads are not" \
         "connected to the queue until it runs the real worker." >&2
    exit 1 ;;
esac

# 2. The host creates the key when it first loads the blob extension after the deployment; listing the
# keys also wakes a Flex Consumption app that scaled to zero. While the host starts, ARM answers with an
# empty key list or a host-runtime error; those are waited for, anything else is final.
key=""
attempt=0
while [ "$attempt" -lt "$attempts" ]; do
  attempt=$((attempt + 1))
  if key="$(az functionapp keys list \
      --subscription "$AZURE_SUBSCRIPTION_ID" \
      --resource-group "$AZURE_RESOURCE_GROUP" \
      --name "$AZURE_FUNCTION_APP_NAME" \
      --query "systemKeys.blobs_extension" --output tsv 2>"$errors")"; then
    if [ -n "$key" ]; then
      break
    fi
    reason="no blobs_extension key yet"
  elif grep -Eq 'from host runtime|\((ServiceUnavailable|BadGateway|GatewayTimeout)\)' "$errors"; then
    key=""
    reason="host runtime not ready"
  else
    fail_with_az_error "listing the keys of $AZURE_FUNCTION_APP_NAME"
  fi
  echo "postdeploy: waiting for the blobs_extension key of $AZURE_FUNCTION_APP_NAME ($reason, $attempt/$attempts)..."
  sleep "$delay_seconds"
done

if [ -z "$key" ]; then
  echo "postdeploy: the Functions host of $AZURE_FUNCTION_APP_NAME has no blobs_extension key after" \
       "$attempts attempts $delay_seconds s apart. Does the app contain the Event Grid blob trigger" \
       "'$AZURE_BLOB_TRIGGER_FUNCTION_NAME' (BlobTrigger with Source = BlobTriggerSource.EventGrid)?" >&2
  if [ -s "$errors" ]; then
    echo "postdeploy: the last answer was:" >&2
    cat "$errors" >&2
  fi
  exit 1
fi
# Function keys are base64 text; anything else could break the JSON and URL built below, so it is
# refused (without printing it).
case "$key" in
  *[!A-Za-z0-9_=+/-]*)
    echo "postdeploy: the blobs_extension key of $AZURE_FUNCTION_APP_NAME has characters outside base64; not using it." >&2
    exit 1 ;;
esac

if ! host_name="$(az functionapp show \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_APP_NAME" \
    --query "defaultHostName" --output tsv 2>"$errors")" || [ -z "$host_name" ]; then
  fail_with_az_error "reading the host name of $AZURE_FUNCTION_APP_NAME"
fi

# 3. The subscription is declared in infra/bicep/uploads-subscription.bicep (so its filter, retry policy
# and identity-based dead-lettering are checked in CI like the rest of the template) and deployed here.
# The webhook URL carries the key, so it is a @secure() parameter (ARM keeps it out of the deployment
# history) that az reads from a private parameters file (`--parameters @file`) written by the shell's
# printf builtin: no process, no command line. The key is percent-encoded: base64 may hold '+' (a space
# in a query string), '/' and '='.
percent_encode_base64() {
  rest="$1"
  encoded=""
  while [ -n "$rest" ]; do
    char="${rest%"${rest#?}"}"
    rest="${rest#?}"
    case "$char" in
      +) encoded="$encoded%2B" ;;
      /) encoded="$encoded%2F" ;;
      =) encoded="$encoded%3D" ;;
      *) encoded="$encoded$char" ;;
    esac
  done
}
percent_encode_base64 "$key"
endpoint="https://${host_name}/runtime/webhooks/blobs?functionName=Host.Functions.${AZURE_BLOB_TRIGGER_FUNCTION_NAME}&code=${encoded}"
script_dir="$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)"
template="$script_dir/../bicep/uploads-subscription.bicep"
secret_parameters="$work_dir/webhook.parameters.json"
printf '{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#","contentVersion":"1.0.0.0","parameters":{"webhookEndpointUrl":{"value":"%s"}}}' \
  "$endpoint" >"$secret_parameters"

echo "postdeploy: subscribing Host.Functions.$AZURE_BLOB_TRIGGER_FUNCTION_NAME on $host_name to BlobCreated under $AZURE_STORAGE_UPLOADS_CONTAINER/ ..."
# A deployment is a PUT: on an existing subscription it replaces the endpoint (a new key) and filters.
if ! az deployment group create \
    --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$subscription_name" \
    --template-file "$template" \
    --parameters "@$secret_parameters" \
    --parameters "systemTopicName=$AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME" \
    --parameters "uploadsContainerName=$AZURE_STORAGE_UPLOADS_CONTAINER" \
    --parameters "storageAccountName=$AZURE_STORAGE_ACCOUNT_NAME" \
    --parameters "deadLetterContainerName=$AZURE_STORAGE_DEADLETTER_CONTAINER" \
    --output none 2>"$errors"; then
  fail_with_az_error "deploying the Event Grid subscription '$subscription_name'"
fi

echo "postdeploy: Event Grid subscription '$subscription_name' is in place."

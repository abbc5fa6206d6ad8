#!/bin/sh
# azd postdeploy hook of the `functions` service: subscribes the Function app's Event Grid blob trigger
# to BlobCreated events under uploads/. Idempotent: run it as often as you like (every `azd deploy`
# does), it creates the subscription or updates it in place with the current key and endpoint.
#
# Why a hook and not Bicep: the webhook URL must carry the host's `blobs_extension` system key, which
# exists only after the code with the blob trigger is deployed and the host has started (azd
# provisions before it deploys), and Event Grid validates the endpoint with a handshake only a running
# host can answer. Reading the key in Bicep would also store it in the deployment history.
#
# Reads azd environment values (azd exports them to hooks): AZURE_RESOURCE_GROUP,
# AZURE_FUNCTION_APP_NAME, AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME, AZURE_BLOB_TRIGGER_FUNCTION_NAME,
# AZURE_STORAGE_UPLOADS_CONTAINER. Run by hand with `azd env get-values` exported first.
# POSIX sh on purpose: azd runs posix hooks with `sh`, which is dash on Debian/Ubuntu.
set -eu

require() {
  eval "value=\${$1:-}"
  if [ -z "$value" ]; then
    echo "postdeploy: environment value $1 is not set; run through azd or export \`azd env get-values\` first." >&2
    exit 1
  fi
}

for name in AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME \
            AZURE_BLOB_TRIGGER_FUNCTION_NAME AZURE_STORAGE_UPLOADS_CONTAINER; do
  require "$name"
done

if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) is required to read the Functions key; install it and run 'az login'." >&2
  exit 1
fi

subscription_name="uploads-blob-created"
attempts="${BLOBS_EXTENSION_KEY_ATTEMPTS:-30}"
delay_seconds="${BLOBS_EXTENSION_KEY_DELAY_SECONDS:-10}"

# The host creates the key when it first loads the blob extension after the deployment; listing the
# keys also wakes a Flex Consumption app that scaled to zero. Poll until it appears.
key=""
attempt=0
while [ "$attempt" -lt "$attempts" ]; do
  attempt=$((attempt + 1))
  key="$(az functionapp keys list \
    --resource-group "$AZURE_RESOURCE_GROUP" \
    --name "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.blobs_extension" --output tsv 2>/dev/null || true)"
  if [ -n "$key" ]; then
    break
  fi
  echo "postdeploy: waiting for the blobs_extension key of $AZURE_FUNCTION_APP_NAME ($attempt/$attempts)..."
  sleep "$delay_seconds"
done

if [ -z "$key" ]; then
  echo "postdeploy: the Functions host of $AZURE_FUNCTION_APP_NAME has no blobs_extension key after" \
       "$attempts attempts $delay_seconds s apart. Does the app contain the Event Grid blob trigger" \
       "'$AZURE_BLOB_TRIGGER_FUNCTION_NAME' (BlobTrigger with Source = BlobTriggerSource.EventGrid)?" >&2
  exit 1
fi

host_name="$(az functionapp show \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name "$AZURE_FUNCTION_APP_NAME" \
  --query "defaultHostName" --output tsv)"

# The key is part of the URL; it is passed to az but never printed.
endpoint="https://${host_name}/runtime/webhooks/blobs?functionName=Host.Functions.${AZURE_BLOB_TRIGGER_FUNCTION_NAME}&code=${key}"

echo "postdeploy: subscribing Host.Functions.$AZURE_BLOB_TRIGGER_FUNCTION_NAME on $host_name to BlobCreated under $AZURE_STORAGE_UPLOADS_CONTAINER/ ..."
# `create` is a PUT: on an existing subscription it replaces the endpoint and filters.
az eventgrid system-topic event-subscription create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --system-topic-name "$AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME" \
  --name "$subscription_name" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/${AZURE_STORAGE_UPLOADS_CONTAINER}/" \
  --event-delivery-schema eventgridschema \
  --max-delivery-attempts 30 \
  --event-ttl 1440 \
  --output none

echo "postdeploy: Event Grid subscription '$subscription_name' is in place."

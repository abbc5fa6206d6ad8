# azd postdeploy hook of the `functions` service (Windows / PowerShell twin of postdeploy.sh):
# subscribes the Function app's Event Grid blob trigger to BlobCreated events under uploads/.
# Idempotent: creates the subscription or updates it in place with the current key and endpoint.
#
# Why a hook and not Bicep: the webhook URL must carry the host's `blobs_extension` system key, which
# exists only after the code with the blob trigger is deployed and the host has started (azd
# provisions before it deploys), and Event Grid validates the endpoint with a handshake only a running
# host can answer. Reading the key in Bicep would also store it in the deployment history.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$required = @(
  'AZURE_RESOURCE_GROUP',
  'AZURE_FUNCTION_APP_NAME',
  'AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME',
  'AZURE_BLOB_TRIGGER_FUNCTION_NAME',
  'AZURE_STORAGE_UPLOADS_CONTAINER'
)
foreach ($name in $required) {
  if ([string]::IsNullOrEmpty([Environment]::GetEnvironmentVariable($name))) {
    Write-Error "postdeploy: environment value $name is not set; run through azd or load 'azd env get-values' first."
    exit 1
  }
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Error "postdeploy: the Azure CLI (az) is required to read the Functions key; install it and run 'az login'."
  exit 1
}

$resourceGroup = $env:AZURE_RESOURCE_GROUP
$appName = $env:AZURE_FUNCTION_APP_NAME
$functionName = $env:AZURE_BLOB_TRIGGER_FUNCTION_NAME
$subscriptionName = 'uploads-blob-created'
$attempts = if ($env:BLOBS_EXTENSION_KEY_ATTEMPTS) { [int]$env:BLOBS_EXTENSION_KEY_ATTEMPTS } else { 30 }
$delaySeconds = if ($env:BLOBS_EXTENSION_KEY_DELAY_SECONDS) { [int]$env:BLOBS_EXTENSION_KEY_DELAY_SECONDS } else { 10 }

# The host creates the key when it first loads the blob extension after the deployment; listing the
# keys also wakes a Flex Consumption app that scaled to zero. Poll until it appears.
$key = ''
for ($attempt = 1; $attempt -le $attempts; $attempt++) {
  $key = (az functionapp keys list --resource-group $resourceGroup --name $appName `
      --query 'systemKeys.blobs_extension' --output tsv 2>$null)
  if ($LASTEXITCODE -eq 0 -and -not [string]::IsNullOrWhiteSpace($key)) { break }
  $key = ''
  Write-Host "postdeploy: waiting for the blobs_extension key of $appName ($attempt/$attempts)..."
  Start-Sleep -Seconds $delaySeconds
}
if ([string]::IsNullOrWhiteSpace($key)) {
  Write-Error ("postdeploy: the Functions host of $appName has no blobs_extension key after $attempts attempts " +
    "$delaySeconds s apart. Does the app contain the Event Grid blob trigger '$functionName' " +
    "(BlobTrigger with Source = BlobTriggerSource.EventGrid)?")
  exit 1
}
$key = $key.Trim()

$hostName = az functionapp show --resource-group $resourceGroup --name $appName --query 'defaultHostName' --output tsv
if ($LASTEXITCODE -ne 0 -or [string]::IsNullOrWhiteSpace($hostName)) {
  Write-Error "postdeploy: could not read the host name of $appName in $resourceGroup."
  exit 1
}
$hostName = $hostName.Trim()

# The key is part of the URL; it is passed to az but never printed.
$endpoint = "https://$hostName/runtime/webhooks/blobs?functionName=Host.Functions.$functionName&code=$key"
# On Windows `az` is a .cmd script, and cmd.exe would cut the argument at '&': the Azure CLI's
# documented remedy is an argument wrapped in literal double quotes. Elsewhere az is a plain program.
# ($env:OS first: Windows PowerShell 5.1 has no $IsWindows, and strict mode rejects unknown variables.)
$endpointArgument = if ($env:OS -eq 'Windows_NT' -or $IsWindows) { '"' + $endpoint + '"' } else { $endpoint }

Write-Host "postdeploy: subscribing Host.Functions.$functionName on $hostName to BlobCreated under $($env:AZURE_STORAGE_UPLOADS_CONTAINER)/ ..."
# `create` is a PUT: on an existing subscription it replaces the endpoint and filters.
az eventgrid system-topic event-subscription create `
  --resource-group $resourceGroup `
  --system-topic-name $env:AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME `
  --name $subscriptionName `
  --endpoint-type webhook `
  --endpoint $endpointArgument `
  --included-event-types Microsoft.Storage.BlobCreated `
  --subject-begins-with "/blobServices/default/containers/$($env:AZURE_STORAGE_UPLOADS_CONTAINER)/" `
  --event-delivery-schema eventgridschema `
  --max-delivery-attempts 30 `
  --event-ttl 1440 `
  --output none
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }

Write-Host "postdeploy: Event Grid subscription '$subscriptionName' is in place."

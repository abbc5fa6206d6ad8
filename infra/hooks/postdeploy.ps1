# azd project-level postdeploy hook (Windows / PowerShell twin of postdeploy.sh): subscribes the Function
# app's Event Grid blob trigger to BlobCreated events under uploads/. Idempotent: creates the
# subscription or updates it in place with the current key and endpoint.
#
# Why a hook and not Bicep: the webhook URL must carry the host's `blobs_extension` system key, which
# exists only after the code with the blob trigger is deployed and the host has started (azd
# provisions before it deploys), and Event Grid validates the endpoint with a handshake only a running
# host can answer. Reading the key in Bicep would also store it in the deployment history.
#
# Why project-level: this subscription starts feeding the GPU queue, so it is created only after every
# service deployed, and only when the GPU worker runs an image from this deployment's registry.
#
# Failure policy (as in postdeploy.sh): every az call names the subscription; an empty key list or a
# host-runtime error while the host starts is waited for; any other error stops the hook with az's own
# message. The key never appears on a command line: az reads the webhook URL from a private parameters
# file (`--parameters @file`). That also avoids cmd.exe cutting the URL at '&' (az is a .cmd on Windows).
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$required = @(
  'AZURE_SUBSCRIPTION_ID',
  'AZURE_RESOURCE_GROUP',
  'AZURE_FUNCTION_APP_NAME',
  'AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME',
  'AZURE_BLOB_TRIGGER_FUNCTION_NAME',
  'AZURE_STORAGE_UPLOADS_CONTAINER',
  'AZURE_STORAGE_ACCOUNT_NAME',
  'AZURE_STORAGE_DEADLETTER_CONTAINER',
  'AZURE_GPU_WORKER_APP_NAME',
  'AZURE_CONTAINER_REGISTRY_ENDPOINT'
)
foreach ($name in $required) {
  if ([string]::IsNullOrEmpty([Environment]::GetEnvironmentVariable($name))) {
    [Console]::Error.WriteLine("postdeploy: environment value $name is not set; run through azd or load 'azd env get-values' first.")
    exit 1
  }
}
if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  [Console]::Error.WriteLine("postdeploy: the Azure CLI (az) is required to read the Functions key; install it and run 'az login'.")
  exit 1
}

$subscriptionId = $env:AZURE_SUBSCRIPTION_ID
$resourceGroup = $env:AZURE_RESOURCE_GROUP
$appName = $env:AZURE_FUNCTION_APP_NAME
$functionName = $env:AZURE_BLOB_TRIGGER_FUNCTION_NAME
$workerName = $env:AZURE_GPU_WORKER_APP_NAME
$registry = $env:AZURE_CONTAINER_REGISTRY_ENDPOINT
$subscriptionName = 'uploads-blob-created'
$attempts = if ($env:BLOBS_EXTENSION_KEY_ATTEMPTS) { [int]$env:BLOBS_EXTENSION_KEY_ATTEMPTS } else { 30 }
$delaySeconds = if ($env:BLOBS_EXTENSION_KEY_DELAY_SECONDS) { [int]$env:BLOBS_EXTENSION_KEY_DELAY_SECONDS } else { 10 }

# Private scratch directory for az's error output and the webhook URL; removed in `finally`.
$workDir = Join-Path ([IO.Path]::GetTempPath()) ("postdeploy-" + [Guid]::NewGuid().ToString('N'))
$null = New-Item -ItemType Directory -Path $workDir
if (-not ($env:OS -eq 'Windows_NT')) {
  # Owner-only, like mktemp -d (on Windows the user's temp folder is already private).
  [IO.File]::SetUnixFileMode($workDir, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
}
$errors = Join-Path $workDir 'az-errors'

# Runs az with its stderr captured to $errors; returns stdout lines and leaves $LASTEXITCODE set.
function Invoke-Az {
  param([string[]] $Arguments)
  $output = & az @Arguments 2>$errors
  return $output
}

function Stop-WithAzError([string] $what) {
  [Console]::Error.WriteLine("postdeploy: $what failed:")
  [Console]::Error.WriteLine("$(Get-Content -Raw -LiteralPath $errors)")
  exit 1
}

try {
  # 1. The GPU worker must run this deployment's image before any job may reach the queue.
  $worker = Invoke-Az @('resource', 'show', '--subscription', $subscriptionId, '--resource-group', $resourceGroup,
    '--name', $workerName, '--resource-type', 'Microsoft.App/containerApps',
    '--query', '[properties.provisioningState, properties.template.containers[0].image]', '--output', 'tsv')
  if ($LASTEXITCODE -ne 0) { Stop-WithAzError "reading the GPU worker $workerName" }
  $fields = ([string]($worker -join "`t")).Trim().Split("`t")
  $workerState = $fields[0]
  $workerImage = if ($fields.Length -gt 1) { $fields[1] } else { '' }
  if ($workerState -ne 'Succeeded') {
    [Console]::Error.WriteLine("postdeploy: the GPU worker $workerName is in state '$workerState', not Succeeded. " +
      "Fix and redeploy it (azd deploy gpu-worker); uploads are not connected until it runs.")
    exit 1
  }
  if (-not $workerImage.StartsWith("$registry/", [StringComparison]::Ordinal)) {
    [Console]::Error.WriteLine("postdeploy: the GPU worker $workerName still runs '$workerImage', not an image from " +
      "$registry. Deploy it first (azd deploy gpu-worker); uploads are not connected to the queue until it runs the real worker.")
    exit 1
  }

  # 2. Wait for the blobs_extension key: an empty answer or a host-runtime error means "not yet".
  $key = ''
  for ($attempt = 1; $attempt -le $attempts; $attempt++) {
    $answer = Invoke-Az @('functionapp', 'keys', 'list', '--subscription', $subscriptionId, '--resource-group', $resourceGroup,
      '--name', $appName, '--query', 'systemKeys.blobs_extension', '--output', 'tsv')
    if ($LASTEXITCODE -eq 0) {
      $key = ([string]($answer -join '')).Trim()
      if ($key) { break }
      $reason = 'no blobs_extension key yet'
    }
    elseif ("$(Get-Content -Raw -LiteralPath $errors)" -match 'from host runtime|\((ServiceUnavailable|BadGateway|GatewayTimeout)\)') {
      $reason = 'host runtime not ready'
    }
    else {
      Stop-WithAzError "listing the keys of $appName"
    }
    Write-Host "postdeploy: waiting for the blobs_extension key of $appName ($reason, $attempt/$attempts)..."
    Start-Sleep -Seconds $delaySeconds
  }
  if (-not $key) {
    $message = "postdeploy: the Functions host of $appName has no blobs_extension key after $attempts attempts " +
      "$delaySeconds s apart. Does the app contain the Event Grid blob trigger '$functionName' " +
      "(BlobTrigger with Source = BlobTriggerSource.EventGrid)?"
    [Console]::Error.WriteLine($message)
    if ((Test-Path -LiteralPath $errors) -and (Get-Item -LiteralPath $errors).Length -gt 0) {
      [Console]::Error.WriteLine("postdeploy: the last answer was:")
      [Console]::Error.WriteLine("$(Get-Content -Raw -LiteralPath $errors)")
    }
    exit 1
  }
  if ($key -notmatch '^[A-Za-z0-9_=+/-]+$') {
    [Console]::Error.WriteLine("postdeploy: the blobs_extension key of $appName has characters outside base64; not using it.")
    exit 1
  }

  $hostName = ([string]((Invoke-Az @('functionapp', 'show', '--subscription', $subscriptionId, '--resource-group', $resourceGroup,
    '--name', $appName, '--query', 'defaultHostName', '--output', 'tsv')) -join '')).Trim()
  if ($LASTEXITCODE -ne 0 -or -not $hostName) { Stop-WithAzError "reading the host name of $appName" }

  # 3. Deploy infra/bicep/uploads-subscription.bicep; the URL with the (percent-encoded) key goes into a
  # private parameters file, so it is on no command line and, as a @secure() parameter, in no history.
  $endpoint = "https://$hostName/runtime/webhooks/blobs?functionName=Host.Functions.$functionName&code=$([Uri]::EscapeDataString($key))"
  $secretParameters = Join-Path $workDir 'webhook.parameters.json'
  $parameterDocument = @{
    '$schema' = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#'
    contentVersion = '1.0.0.0'
    parameters = @{ webhookEndpointUrl = @{ value = $endpoint } }
  }
  Set-Content -LiteralPath $secretParameters -Value ($parameterDocument | ConvertTo-Json -Depth 5 -Compress) -Encoding utf8
  $template = Join-Path $PSScriptRoot '../bicep/uploads-subscription.bicep'

  Write-Host "postdeploy: subscribing Host.Functions.$functionName on $hostName to BlobCreated under $($env:AZURE_STORAGE_UPLOADS_CONTAINER)/ ..."
  # A deployment is a PUT: on an existing subscription it replaces the endpoint (a new key) and filters.
  $null = Invoke-Az @('deployment', 'group', 'create', '--subscription', $subscriptionId, '--resource-group', $resourceGroup,
    '--name', $subscriptionName, '--template-file', $template,
    '--parameters', "@$secretParameters",
    '--parameters', "systemTopicName=$($env:AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME)",
    '--parameters', "uploadsContainerName=$($env:AZURE_STORAGE_UPLOADS_CONTAINER)",
    '--parameters', "storageAccountName=$($env:AZURE_STORAGE_ACCOUNT_NAME)",
    '--parameters', "deadLetterContainerName=$($env:AZURE_STORAGE_DEADLETTER_CONTAINER)",
    '--output', 'none')
  if ($LASTEXITCODE -ne 0) { Stop-WithAzError "deploying the Event Grid subscription '$subscriptionName'" }

  Write-Host "postdeploy: Event Grid subscription '$subscriptionName' is in place."
}
finally {
  Remove-Item -LiteralPath $workDir -Recurse -Force -ErrorAction SilentlyContinue
}

// CodeFormer.Cloud on Azure: upload a photo to blob storage → Event Grid → Function app (Flex
// Consumption) records a job and queues it on Service Bus → a serverless-GPU container app, scaled
// from zero by KEDA on the queue length, restores the faces and writes the result back to storage.
//
// Subscription scope so that `azd up` creates the resource group too (the usual azd template shape).
// Secure by default: no shared keys, no admin users, no local auth; every app talks to every service
// with a user-assigned managed identity (roles in modules/role-assignments.bicep). User data (photos,
// results, jobs) and the Functions host's bookkeeping live in separate storage accounts, so no identity
// holds an account-wide data role on the account with the photos. Nothing that costs
// money per hour runs while there is no work, except the fixed base fees listed in docs/deployment.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every resource name and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer serverless GPUs in Container Apps (see docs/deployment.md).')
param location string

@description('Object id of the user running azd (AZURE_PRINCIPAL_ID): granted blob access to send photos and read results. Empty grants nothing.')
param principalId string = ''

@description('Principal type of principalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Days after which uploaded photos, results, dead-lettered upload events and blob receipts are deleted (lifecycle policies run about once a day).')
@minValue(1)
param retentionDays int = 7

@description('Serverless GPU workload profile the worker runs on.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuWorkloadProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Further GPU profile types to keep in the environment, comma-separated (e.g. the one the worker ran on before a switch, until nothing uses it). Empty keeps only gpuWorkloadProfileType.')
param retainedGpuWorkloadProfileTypes string = ''

@description('Most GPU replicas at once; bounds the GPU bill under a burst.')
@minValue(1)
param gpuWorkerMaxReplicas int = 2

@description('Queued jobs per GPU replica before another replica is added (KEDA messageCount).')
@minValue(1)
param gpuWorkerMessagesPerReplica int = 10

@description('Queue length above which the worker is woken from zero (KEDA activationMessageCount; 0 = the first job).')
@minValue(0)
param gpuWorkerActivationMessageCount int = 0

@description('Seconds of empty queue before the last GPU replica stops. Shorter saves GPU time, longer avoids cold starts between photos.')
@minValue(0)
param gpuWorkerCooldownSeconds int = 300

@description('Image of the GPU worker; azd sets it after a deploy on this machine. Empty: the image the app runs now, or a placeholder before the first deploy.')
param gpuWorkerImageName string = ''

@description('\'true\' when the GPU worker app already exists (azd sets SERVICE_GPU_WORKER_RESOURCE_EXISTS before every provision); its current image is then kept.')
@allowed([
  'true'
  'false'
])
param gpuWorkerExists string = 'false'

@description('Name of the Event Grid blob-trigger function in the Function app (the webhook the postdeploy hook subscribes).')
param blobTriggerFunctionName string = 'EnqueueUploadedPhoto'

@description('.NET isolated runtime version of the Function app.')
param functionsRuntimeVersion string = '10.0'

@description('Daily Log Analytics ingestion cap in GB (-1: none).')
param logAnalyticsDailyQuotaGb int = 1

@description('Container registry tier. Basic (~$5/month) is enough to hold the worker image; Premium (~$50/month) adds artifact streaming, which shortens GPU cold starts for multi-GB CUDA images (docs/deployment.md).')
@allowed([
  'Basic'
  'Premium'
])
param containerRegistrySku string = 'Basic'

@description('E-mail address alerts are sent to (dead-lettered jobs or events, failed jobs, GPU worker restarts). Empty: alerts still fire and show in the portal, but notify no one.')
param alertEmailAddress string = ''

var abbreviations = {
  resourceGroup: 'rg-'
  storageAccount: 'st'
  hostStorageAccount: 'stfn'
  serviceBus: 'sb-'
  managedIdentity: 'id-'
  logAnalytics: 'log-'
  applicationInsights: 'appi-'
  containerRegistry: 'cr'
  containerAppsEnvironment: 'cae-'
  containerApp: 'ca-'
  functionsPlan: 'plan-'
  functionApp: 'func-'
  eventGridTopic: 'evgt-'
  eventGridSystemTopic: 'evgst-'
}

// Stable per subscription, environment and region: re-running `azd up` updates the same resources.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
// The GPU worker's cloud role name in Application Insights (OTEL_SERVICE_NAME).
var workerTelemetryRoleName = 'gpu-worker'
var tags = {
  'azd-env-name': environmentName
}

var names = {
  storageAccount: '${abbreviations.storageAccount}${resourceToken}'
  hostStorageAccount: '${abbreviations.hostStorageAccount}${resourceToken}'
  serviceBus: '${abbreviations.serviceBus}${resourceToken}'
  functionsIdentity: '${abbreviations.managedIdentity}func-${resourceToken}'
  workerIdentity: '${abbreviations.managedIdentity}gpu-${resourceToken}'
  logAnalytics: '${abbreviations.logAnalytics}${resourceToken}'
  applicationInsights: '${abbreviations.applicationInsights}${resourceToken}'
  containerRegistry: '${abbreviations.containerRegistry}${resourceToken}'
  containerAppsEnvironment: '${abbreviations.containerAppsEnvironment}${resourceToken}'
  gpuWorker: '${abbreviations.containerApp}gpu-${resourceToken}'
  functionsPlan: '${abbreviations.functionsPlan}${resourceToken}'
  functionApp: '${abbreviations.functionApp}${resourceToken}'
  jobEventsTopic: '${abbreviations.eventGridTopic}jobs-${resourceToken}'
  uploadsSystemTopic: '${abbreviations.eventGridSystemTopic}${resourceToken}'
  uploadsContainer: 'uploads'
  resultsContainer: 'results'
  modelsContainer: 'models'
  deploymentContainer: 'functions-deployment'
  deadLetterContainer: 'events-deadletter'
  // Fixed by the Functions blob extension (HostQueueNames.BlobTriggerPoisonQueue).
  blobTriggerPoisonQueue: 'webjobs-blobtrigger-poison'
  // TerminalWebhookNotice.QueueName in the Functions app (its queue trigger's name is fixed in code).
  webhookNoticeQueue: 'webhook-notices'
  // Fixed by the Functions queue extension: "<queue>-poison".
  webhookNoticePoisonQueue: 'webhook-notices-poison'
  jobsTable: 'jobs'
  queue: 'restore-jobs'
}

// Each GPU profile is named after its type, so switching T4 <-> A100 adds a profile next to the one in
// use instead of changing the type of a profile the running app sits on (see
// container-apps-environment.bicep and docs/deployment.md for the switch).
var gpuWorkloadProfileNames = {
  'Consumption-GPU-NC8as-T4': 'gpu-t4'
  'Consumption-GPU-NC24-A100': 'gpu-a100'
}
var retainedGpuTypes = filter(map(split(retainedGpuWorkloadProfileTypes, ','), type => trim(type)), type => !empty(type) && type != gpuWorkloadProfileType)
var gpuWorkloadProfiles = map(concat([gpuWorkloadProfileType], retainedGpuTypes), type => {
  name: gpuWorkloadProfileNames[type]
  workloadProfileType: type
})

// Per-replica size of each serverless GPU profile (the whole GPU node is one replica).
var gpuReplicaSizes = {
  'Consumption-GPU-NC8as-T4': {
    cpu: '8.0'
    memory: '56Gi'
  }
  'Consumption-GPU-NC24-A100': {
    cpu: '24.0'
    memory: '220Gi'
  }
}

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbreviations.resourceGroup}${environmentName}'
  location: location
  tags: tags
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    functionsIdentityName: names.functionsIdentity
    workerIdentityName: names.workerIdentity
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    dailyQuotaGb: logAnalyticsDailyQuotaGb
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    storageAccountName: names.storageAccount
    uploadsContainerName: names.uploadsContainer
    resultsContainerName: names.resultsContainer
    modelsContainerName: names.modelsContainer
    deadLetterContainerName: names.deadLetterContainer
    blobTriggerPoisonQueueName: names.blobTriggerPoisonQueue
    webhookNoticeQueueName: names.webhookNoticeQueue
    webhookNoticePoisonQueueName: names.webhookNoticePoisonQueue
    jobsTableName: names.jobsTable
    retentionDays: retentionDays
  }
}

module functionsHostStorage 'modules/functions-host-storage.bicep' = {
  name: 'functions-host-storage'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    storageAccountName: names.hostStorageAccount
    deploymentContainerName: names.deploymentContainer
    retentionDays: retentionDays
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    namespaceName: names.serviceBus
    queueName: names.queue
  }
}

module jobEvents 'modules/job-events-topic.bicep' = {
  name: 'job-events-topic'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    topicName: names.jobEventsTopic
  }
}

module uploadsEvents 'modules/uploads-system-topic.bicep' = {
  name: 'uploads-system-topic'
  scope: resourceGroup
  // The names below are known up front (for What-If); dependsOn keeps the creation order.
  dependsOn: [
    storage
  ]
  params: {
    location: location
    tags: tags
    systemTopicName: names.uploadsSystemTopic
    storageAccountName: names.storageAccount
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  scope: resourceGroup
  params: {
    location: location
    tags: tags
    registryName: names.containerRegistry
    sku: containerRegistrySku
  }
}

module roleAssignments 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: resourceGroup
  // Assigns roles on resources it refers to by name: they must exist first.
  dependsOn: [
    identities
    monitoring
    storage
    functionsHostStorage
    uploadsEvents
    serviceBus
    jobEvents
    registry
  ]
  params: {
    functionsIdentityName: names.functionsIdentity
    workerIdentityName: names.workerIdentity
    uploadsSystemTopicName: names.uploadsSystemTopic
    principalId: principalId
    principalType: principalType
    hostStorageAccountName: names.hostStorageAccount
    storageAccountName: names.storageAccount
    uploadsContainerName: names.uploadsContainer
    resultsContainerName: names.resultsContainer
    modelsContainerName: names.modelsContainer
    deadLetterContainerName: names.deadLetterContainer
    blobTriggerPoisonQueueName: names.blobTriggerPoisonQueue
    webhookNoticeQueueName: names.webhookNoticeQueue
    webhookNoticePoisonQueueName: names.webhookNoticePoisonQueue
    jobsTableName: names.jobsTable
    serviceBusNamespaceName: names.serviceBus
    queueName: names.queue
    jobEventsTopicName: names.jobEventsTopic
    registryName: names.containerRegistry
    applicationInsightsName: names.applicationInsights
  }
}

module containerAppsEnvironment 'modules/container-apps-environment.bicep' = {
  name: 'container-apps-environment'
  scope: resourceGroup
  // Sends its logs to the workspace, which must exist first.
  dependsOn: [
    monitoring
  ]
  params: {
    location: location
    tags: tags
    environmentName: names.containerAppsEnvironment
    logAnalyticsName: names.logAnalytics
    gpuWorkloadProfiles: gpuWorkloadProfiles
  }
}

module existingWorkerImage 'modules/existing-worker-image.bicep' = {
  name: 'existing-worker-image'
  scope: resourceGroup
  params: {
    exists: bool(gpuWorkerExists)
    appName: names.gpuWorker
  }
}

module gpuWorker 'modules/gpu-worker.bicep' = {
  name: 'gpu-worker'
  scope: resourceGroup
  // The identity must hold AcrPull and the queue role before the first revision pulls and scales;
  // the environment, the identity and the component are referred to by name.
  dependsOn: [
    roleAssignments
    containerAppsEnvironment
    identities
    monitoring
  ]
  params: {
    location: location
    tags: tags
    appName: names.gpuWorker
    environmentName: names.containerAppsEnvironment
    gpuWorkloadProfileName: gpuWorkloadProfileNames[gpuWorkloadProfileType]
    identityName: names.workerIdentity
    registryLoginServer: registry.outputs.loginServer
    // A provision never moves a deployed worker back to the placeholder (see existing-worker-image.bicep).
    imageName: !empty(gpuWorkerImageName) ? gpuWorkerImageName : existingWorkerImage.outputs.image
    cpu: gpuReplicaSizes[gpuWorkloadProfileType].cpu
    memory: gpuReplicaSizes[gpuWorkloadProfileType].memory
    maxReplicas: gpuWorkerMaxReplicas
    messagesPerReplica: gpuWorkerMessagesPerReplica
    activationMessageCount: gpuWorkerActivationMessageCount
    cooldownSeconds: gpuWorkerCooldownSeconds
    healthPort: 8080
    healthPath: '/healthz'
    // The worker's own shutdown grace (60 s for in-flight jobs) + 30 s to abandon the remaining
    // messages, record their state and flush telemetry.
    terminationGracePeriodSeconds: 90
    telemetryRoleName: workerTelemetryRoleName
    serviceBusNamespaceName: names.serviceBus
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    queueName: names.queue
    blobEndpoint: storage.outputs.blobEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    uploadsContainerName: names.uploadsContainer
    resultsContainerName: names.resultsContainer
    modelsContainerName: names.modelsContainer
    jobsTableName: names.jobsTable
    jobEventsTopicEndpoint: jobEvents.outputs.topicEndpoint
    applicationInsightsName: names.applicationInsights
  }
}

module functions 'modules/functions.bicep' = {
  name: 'functions'
  scope: resourceGroup
  // The host starts against its storage with the identity: the roles must exist first; the identity
  // and the component are referred to by name.
  dependsOn: [
    roleAssignments
    identities
    monitoring
  ]
  params: {
    location: location
    tags: tags
    planName: names.functionsPlan
    appName: names.functionApp
    identityName: names.functionsIdentity
    hostStorageAccountName: functionsHostStorage.outputs.storageAccountName
    hostBlobEndpoint: functionsHostStorage.outputs.blobEndpoint
    deploymentContainerName: functionsHostStorage.outputs.deploymentContainerName
    blobEndpoint: storage.outputs.blobEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    uploadsContainerName: names.uploadsContainer
    resultsContainerName: names.resultsContainer
    jobsTableName: names.jobsTable
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    queueName: names.queue
    jobEventsTopicEndpoint: jobEvents.outputs.topicEndpoint
    applicationInsightsName: names.applicationInsights
    runtimeVersion: functionsRuntimeVersion
    maximumInstanceCount: 40
    instanceMemoryMB: 2048
  }
}

module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  scope: resourceGroup
  // Attaches settings to resources it refers to by name: they must exist first.
  dependsOn: [
    monitoring
    storage
    serviceBus
    uploadsEvents
    jobEvents
    functions
    gpuWorker
  ]
  params: {
    logAnalyticsName: names.logAnalytics
    storageAccountName: names.storageAccount
    serviceBusNamespaceName: names.serviceBus
    uploadsSystemTopicName: names.uploadsSystemTopic
    jobEventsTopicName: names.jobEventsTopic
    functionAppName: names.functionApp
    gpuWorkerAppName: names.gpuWorker
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: resourceGroup
  // Alerts on resources referred to by name: they must exist first.
  dependsOn: [
    monitoring
    serviceBus
    uploadsEvents
    gpuWorker
  ]
  params: {
    location: location
    tags: tags
    namePrefix: resourceToken
    alertEmailAddress: alertEmailAddress
    serviceBusNamespaceName: names.serviceBus
    queueName: names.queue
    uploadsSystemTopicName: names.uploadsSystemTopic
    gpuWorkerAppName: names.gpuWorker
    workerTelemetryRoleName: workerTelemetryRoleName
    logAnalyticsName: names.logAnalytics
  }
}

// Outputs become azd environment values (and environment variables of the hooks). Names, endpoints
// and ids only: nothing here grants access by itself.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.registryName
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = containerAppsEnvironment.outputs.environmentName
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.storageAccountName
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_STORAGE_UPLOADS_CONTAINER string = storage.outputs.uploadsContainerName
output AZURE_STORAGE_RESULTS_CONTAINER string = storage.outputs.resultsContainerName
output AZURE_STORAGE_MODELS_CONTAINER string = storage.outputs.modelsContainerName
output AZURE_STORAGE_JOBS_TABLE string = storage.outputs.jobsTableName
output AZURE_STORAGE_DEADLETTER_CONTAINER string = storage.outputs.deadLetterContainerName
output AZURE_STORAGE_BLOB_TRIGGER_POISON_QUEUE string = storage.outputs.blobTriggerPoisonQueueName
output AZURE_FUNCTIONS_HOST_STORAGE_ACCOUNT_NAME string = functionsHostStorage.outputs.storageAccountName
output AZURE_SERVICEBUS_FULLY_QUALIFIED_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_SERVICEBUS_QUEUE_NAME string = serviceBus.outputs.queueName
output AZURE_EVENTGRID_JOB_EVENTS_TOPIC_ENDPOINT string = jobEvents.outputs.topicEndpoint
output AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME string = uploadsEvents.outputs.systemTopicName
output AZURE_FUNCTION_APP_NAME string = functions.outputs.appName
output AZURE_FUNCTION_APP_HOST_NAME string = functions.outputs.defaultHostName
output AZURE_BLOB_TRIGGER_FUNCTION_NAME string = blobTriggerFunctionName
output AZURE_GPU_WORKER_APP_NAME string = gpuWorker.outputs.appName
output AZURE_FUNCTIONS_IDENTITY_CLIENT_ID string = identities.outputs.functionsIdentityClientId
output AZURE_GPU_WORKER_IDENTITY_CLIENT_ID string = identities.outputs.workerIdentityClientId

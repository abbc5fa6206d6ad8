// Diagnostic settings: every service on a job's path sends its platform logs and metrics to the Log
// Analytics workspace, so a failure anywhere (a webhook Event Grid cannot reach, a message Service Bus
// dead-letters, a 403 from storage, a replica the platform kills) can be found in one place and the
// alerts in alerts.bicep can see it. (The Container Apps environment sends the worker's console and
// system logs through its own setting, container-apps-environment.bicep; Application Insights is
// workspace-based, so the apps' own telemetry lands in the same workspace.)
//
// Privacy: storage and Event Grid logs carry request URIs, i.e. the names of uploaded blobs, and
// caller IP addresses. They stay for the workspace's retention (monitoring.bicep, 30 days) and are
// listed in docs/deployment.md ("Where a photo can remain"). The Functions host's own account is left
// out: its traffic is the host's bookkeeping, and the data account's logs already show every upload.

@description('Name of the Log Analytics workspace that receives everything.')
param logAnalyticsName string

@description('Name of the data storage account (uploads, results, jobs, poison queue).')
param storageAccountName string

@description('Name of the Service Bus namespace.')
param serviceBusNamespaceName string

@description('Name of the Event Grid system topic on the data account.')
param uploadsSystemTopicName string

@description('Name of the Event Grid topic for job events.')
param jobEventsTopicName string

@description('Name of the Function app.')
param functionAppName string

@description('Name of the GPU worker container app.')
param gpuWorkerAppName string

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'
  }

  resource queueService 'queueServices' existing = {
    name: 'default'
  }

  resource tableService 'tableServices' existing = {
    name: 'default'
  }
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource uploadsSystemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: uploadsSystemTopicName
}

resource jobEventsTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: jobEventsTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource gpuWorker 'Microsoft.App/containerApps@2025-01-01' existing = {
  name: gpuWorkerAppName
}

var allLogs = [
  {
    categoryGroup: 'allLogs'
    enabled: true
  }
]

var allMetrics = [
  {
    category: 'AllMetrics'
    enabled: true
  }
]

// Storage: read/write/delete requests per service (who touched which blob, queue message or job row,
// and the status, e.g. 403 for a missing role) plus transaction metrics.
resource blobLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storageAccount::blobService
  properties: {
    workspaceId: logAnalytics.id
    logs: allLogs
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

resource queueLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storageAccount::queueService
  properties: {
    workspaceId: logAnalytics.id
    logs: allLogs
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

resource tableLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: storageAccount::tableService
  properties: {
    workspaceId: logAnalytics.id
    logs: allLogs
    metrics: [
      {
        category: 'Transaction'
        enabled: true
      }
    ]
  }
}

// Service Bus: operational and runtime logs, and the metrics behind the dead-letter alert.
resource serviceBusLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: serviceBus
  properties: {
    workspaceId: logAnalytics.id
    logs: allLogs
    metrics: allMetrics
  }
}

// Event Grid: delivery failures to the webhook (with the reason) and publish failures on the job topic.
resource uploadsSystemTopicLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: uploadsSystemTopic
  properties: {
    workspaceId: logAnalytics.id
    logs: allLogs
    metrics: allMetrics
  }
}

resource jobEventsTopicLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: jobEventsTopic
  properties: {
    workspaceId: logAnalytics.id
    logs: allLogs
    metrics: allMetrics
  }
}

// Function app: the host's FunctionAppLogs (startup errors, trigger failures) even when the app's own
// telemetry cannot reach Application Insights.
resource functionAppLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalytics.id
    logs: allLogs
    metrics: allMetrics
  }
}

// GPU worker: its metrics (replicas, restarts, resource use); its logs come through the environment.
resource gpuWorkerMetrics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: gpuWorker
  properties: {
    workspaceId: logAnalytics.id
    metrics: allMetrics
  }
}

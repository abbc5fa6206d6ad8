// Alerts on the failures that otherwise stay silent: a job nobody could process (dead-lettered on the
// Service Bus queue), an upload whose event never reached the Function app (dead-lettered or dropped by
// Event Grid), a job the worker marked failed, and a GPU worker that keeps restarting. Each fires into
// an action group that e-mails alertEmailAddress when one is given; without it the alerts still fire
// and show under Monitor → Alerts in the portal.

@description('Tags applied to every alert (carries azd-env-name).')
param tags object

@description('Prefix of every alert name (the environment\'s resource token keeps names unique).')
param namePrefix string

@description('E-mail address notified when an alert fires; empty for none.')
param alertEmailAddress string

@description('Name of the Service Bus namespace.')
param serviceBusNamespaceName string

@description('Queue the jobs wait on.')
param queueName string

@description('Name of the Event Grid system topic on the data account.')
param uploadsSystemTopicName string

@description('Name of the GPU worker container app.')
param gpuWorkerAppName string

@description('Cloud role name of the worker\'s telemetry (OTEL_SERVICE_NAME).')
param workerTelemetryRoleName string

@description('Name of the Log Analytics workspace holding the apps\' telemetry.')
param logAnalyticsName string

@description('Azure region of the log alert (the workspace\'s region).')
param location string

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource uploadsSystemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: uploadsSystemTopicName
}

resource gpuWorker 'Microsoft.App/containerApps@2025-01-01' existing = {
  name: gpuWorkerAppName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource notify 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmailAddress)) {
  name: '${namePrefix}-notify'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'codeformer'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

var actions = empty(alertEmailAddress) ? [] : [
  {
    actionGroupId: notify.id
  }
]

// A job that failed maxDeliveryCount (5) times, or expired unprocessed, sits in
// restore-jobs/$deadletterqueue. DeadletteredMessages is a gauge of that queue's length: the alert
// stays fired until the dead letters are dealt with.
resource jobsDeadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-jobs-dead-lettered'
  location: 'global'
  tags: tags
  properties: {
    description: 'Restore jobs are in the Service Bus dead-letter queue: they failed 5 deliveries or expired unprocessed. docs/deployment.md, "When nothing comes back".'
    severity: 1
    enabled: true
    scopes: [
      serviceBus.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dead-lettered-jobs'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: [
                queueName
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: actions
  }
}

// An upload whose BlobCreated event Event Grid could not deliver within its retry policy (30 attempts,
// 24 h) is dead-lettered into events-deadletter/: the photo is stored but no job exists for it.
resource uploadsDeadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-uploads-dead-lettered'
  location: 'global'
  tags: tags
  properties: {
    description: 'Event Grid dead-lettered BlobCreated events: uploads that never reached the Function app. They are in the events-deadletter container.'
    severity: 1
    enabled: true
    scopes: [
      uploadsSystemTopic.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dead-lettered-events'
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: 'DeadLetteredCount'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    actions: actions
  }
}

// Dropped events are the ones Event Grid could not even dead-letter (e.g. the dead-letter container is
// unreachable): the only trace left of those uploads is this metric.
resource uploadsDropped 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-uploads-dropped'
  location: 'global'
  tags: tags
  properties: {
    description: 'Event Grid dropped BlobCreated events without dead-lettering them: uploads that will never become jobs.'
    severity: 1
    enabled: true
    scopes: [
      uploadsSystemTopic.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dropped-events'
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: 'DroppedEventCount'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    actions: actions
  }
}

// Restarts mean the liveness probe failed (a hung GPU or a dead queue loop), the process crashed, or
// it ran out of memory; each one also returns the replica's in-flight job to the queue.
resource workerRestarting 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-gpu-worker-restarting'
  location: 'global'
  tags: tags
  properties: {
    description: 'GPU worker replicas restarted: failed liveness probe, crash or out-of-memory. See the ContainerAppSystemLogs and ContainerAppConsoleLogs tables in Log Analytics.'
    severity: 2
    enabled: true
    scopes: [
      gpuWorker.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'replica-restarts'
          metricNamespace: 'Microsoft.App/containerApps'
          metricName: 'RestartCount'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    actions: actions
  }
}

// Failed jobs: the settings contract (docs/deployment.md) has the worker log every job that ends
// failed at Error level, and nothing routine at Error or above, under its cloud role name.
resource jobsFailed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-jobs-failed'
  location: location
  tags: tags
  properties: {
    displayName: '${namePrefix}-jobs-failed'
    description: 'The GPU worker logged errors: failed jobs (state and error are in the jobs table) or worse.'
    severity: 2
    enabled: true
    scopes: [
      logAnalytics.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'union AppTraces, AppExceptions | where AppRoleName == "${workerTelemetryRoleName}" and SeverityLevel >= 3'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: empty(alertEmailAddress) ? [] : [
        notify.id
      ]
    }
  }
}

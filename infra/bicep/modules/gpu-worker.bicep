// The GPU worker: a container app on the serverless GPU profile that takes restore jobs off the
// Service Bus queue. It has no ingress (nothing calls it); it scales on queue length alone, from 0.
//
// Model files: downloaded from the `models` blob container at start-up (managed identity, no key) into
// the replica's local disk, then loaded onto the GPU. Neither of the two usual alternatives fits:
//   * Azure Files mount: Container Apps mounts SMB shares with the storage account key, and this
//     account has shared-key access disabled; NFS shares need a Premium FileStorage account and a
//     virtual network, both of which cost money at idle.
//   * Model baked into the image: the image is pushed by `azd deploy` from the user's machine, so
//     every build would upload the weights (~0.4 GB for CodeFormer, whose S-Lab licence also asks that
//     redistribution stay under the user's control), and a model update would need an image rebuild.
// Cold start: the dominant cost of a scale-from-zero on a serverless GPU is allocating the GPU node and
// pulling the CUDA-based image (several GB); downloading ~0.4 GB from blob storage in the same region
// adds seconds, about what the same bytes would add as an image layer pulled from a Basic registry.
// The startup probe below allows for both.

@description('Azure region of the app (the environment\'s region).')
param location string

@description('Tags applied to the app (carries azd-env-name; azd-service-name is added here).')
param tags object

@description('Container app name.')
param appName string

@description('Name of the Container Apps environment.')
param environmentName string

@description('Workload profile (inside the environment) the app runs on.')
param gpuWorkloadProfileName string

@description('Name of the user-assigned identity the app runs, pulls its image and scales as.')
param identityName string

@description('Login server of the container registry holding the worker image.')
param registryLoginServer string

@description('Image to run. Empty on the first provision (azd deploys the real image afterwards); a public placeholder is used then.')
param imageName string

@description('vCPUs for the worker container. The T4 profile offers 8 vCPU / 56 GiB per replica.')
param cpu string

@description('Memory for the worker container.')
param memory string

@description('Upper bound of GPU replicas (each one is a billed GPU while it runs).')
@minValue(1)
param maxReplicas int

@description('Target number of queued jobs per replica (KEDA messageCount).')
@minValue(1)
param messagesPerReplica int

@description('Queue length above which the app is woken from zero (KEDA activationMessageCount; 0 = the first message).')
@minValue(0)
param activationMessageCount int

@description('Seconds without qualifying queue length before the last replica is stopped (each second is billed GPU time).')
@minValue(0)
param cooldownSeconds int

@description('Port of the worker\'s HTTP health endpoint.')
param healthPort int

@description('Path of the worker\'s HTTP health endpoint (200 once models are loaded and the queue loop runs).')
param healthPath string

@description('Seconds between SIGTERM and SIGKILL when a replica stops (scale-in, new revision, platform maintenance).')
@minValue(0)
@maxValue(600)
param terminationGracePeriodSeconds int

@description('Name of the Service Bus namespace (not the FQDN: the KEDA scaler wants the name).')
param serviceBusNamespaceName string

@description('Fully qualified Service Bus namespace the worker receives from.')
param serviceBusFullyQualifiedNamespace string

@description('Queue the worker receives jobs from.')
param queueName string

@description('Blob endpoint of the storage account.')
param blobEndpoint string

@description('Table endpoint of the storage account.')
param tableEndpoint string

@description('Container holding the uploaded photos.')
param uploadsContainerName string

@description('Container the worker writes results into.')
param resultsContainerName string

@description('Container the worker downloads model files from.')
param modelsContainerName string

@description('Table holding the jobs.')
param jobsTableName string

@description('Endpoint of the Event Grid topic for job events.')
param jobEventsTopicEndpoint string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Cloud role name the worker reports its telemetry under (OTEL_SERVICE_NAME).')
param telemetryRoleName string

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' existing = {
  name: environmentName
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The placeholder only has to exist until `azd deploy` replaces it; with min replicas 0 it never runs.
var image = empty(imageName) ? 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest' : imageName

resource workerApp 'Microsoft.App/containerApps@2025-01-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'gpu-worker' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    workloadProfileName: gpuWorkloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [
        {
          server: registryLoginServer
          identity: identity.id
        }
      ]
    }
    template: {
      // On SIGTERM the worker stops receiving, lets in-flight jobs finish for up to its own grace period
      // (60 s by default, a typical job length), then abandons the rest so they return to the queue at
      // once rather than when their lock expires, and flushes telemetry. This must outlast all of that,
      // or the platform's SIGKILL (after 30 s by default) cuts a job mid-write.
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: 'gpu-worker'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: [
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsights.properties.ConnectionString }
            { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
            { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusFullyQualifiedNamespace }
            { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
            { name: 'ServiceBusConnection__clientId', value: identity.properties.clientId }
            { name: 'Storage__blobServiceUri', value: blobEndpoint }
            { name: 'Storage__tableServiceUri', value: tableEndpoint }
            { name: 'Storage__credential', value: 'managedidentity' }
            { name: 'Storage__clientId', value: identity.properties.clientId }
            { name: 'Jobs__queueName', value: queueName }
            { name: 'Jobs__tableName', value: jobsTableName }
            { name: 'Jobs__uploadsContainer', value: uploadsContainerName }
            { name: 'Jobs__resultsContainer', value: resultsContainerName }
            { name: 'Jobs__modelsContainer', value: modelsContainerName }
            { name: 'JobEvents__topicEndpoint', value: jobEventsTopicEndpoint }
            { name: 'Health__port', value: string(healthPort) }
            // Cloud role name of the worker's telemetry (the OpenTelemetry SDK reads it); the failed-job
            // alert in alerts.bicep selects the worker's logs by it.
            { name: 'OTEL_SERVICE_NAME', value: telemetryRoleName }
          ]
          probes: [
            {
              // Model download + CUDA initialisation: up to 30 s + 10 × 30 s = 5.5 min before the
              // replica is declared failed (Container Apps caps failureThreshold at 10 and
              // initialDelaySeconds at 60, so the period carries the length). Liveness and readiness
              // start only after this succeeds.
              type: 'Startup'
              httpGet: {
                port: healthPort
                path: healthPath
              }
              initialDelaySeconds: 30
              periodSeconds: 30
              failureThreshold: 10
              timeoutSeconds: 5
            }
            {
              type: 'Readiness'
              httpGet: {
                port: healthPort
                path: healthPath
              }
              periodSeconds: 15
              failureThreshold: 3
              timeoutSeconds: 5
            }
            {
              // A hung GPU or a dead queue loop makes the endpoint fail: restart the replica; the job
              // it held returns to the queue when its lock expires.
              type: 'Liveness'
              httpGet: {
                port: healthPort
                path: healthPath
              }
              periodSeconds: 30
              failureThreshold: 3
              timeoutSeconds: 5
            }
          ]
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: maxReplicas
        cooldownPeriod: cooldownSeconds
        pollingInterval: 15
        rules: [
          {
            name: 'restore-queue-length'
            custom: {
              type: 'azure-servicebus'
              metadata: {
                queueName: queueName
                namespace: serviceBusNamespaceName
                messageCount: string(messagesPerReplica)
                activationMessageCount: string(activationMessageCount)
              }
              // Keyless KEDA: the scaler reads the queue length with this managed identity instead of
              // a connection string held as an app secret.
              identity: identity.id
            }
          }
        ]
      }
    }
  }
}

output appName string = workerApp.name

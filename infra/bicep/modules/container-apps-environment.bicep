// Container Apps environment with a serverless GPU workload profile. Serverless (consumption) GPU
// profiles bill per second only while a replica runs, which is what lets the GPU worker cost nothing
// at idle (min replicas 0). The plain Consumption profile is always present in a workload-profiles
// environment and costs nothing without replicas.
//
// Logs go to Azure Monitor and from there, through a diagnostic setting, to the Log Analytics
// workspace. The alternative destination 'log-analytics' needs the workspace's shared key in the
// environment's configuration; this route needs no key at all.

@description('Azure region of the environment. Serverless GPUs exist only in some regions (see docs/deployment.md).')
param location string

@description('Tags applied to the environment (carries azd-env-name).')
param tags object

@description('Container Apps environment name.')
param environmentName string

@description('Name of the Log Analytics workspace that receives the environment\'s logs.')
param logAnalyticsName string

@description('Name the GPU workload profile is known by inside the environment (the app refers to it).')
param gpuWorkloadProfileName string

@description('Serverless GPU workload profile type.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuWorkloadProfileType string

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
      {
        name: gpuWorkloadProfileName
        workloadProfileType: gpuWorkloadProfileType
      }
    ]
    zoneRedundant: false
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: logAnalytics.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output environmentName string = environment.name
output gpuWorkloadProfileName string = gpuWorkloadProfileName

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

@description('Serverless GPU profiles, each { name, workloadProfileType }; the name is derived from the type (gpu-t4, gpu-a100).')
param gpuWorkloadProfiles array

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
    // A profile's type is never changed in place: each GPU type has its own profile name, so switching
    // the worker from T4 to A100 adds the A100 profile (and keeps the T4 one while it is listed in
    // retainedGpuWorkloadProfileTypes) instead of retyping the profile the running app sits on.
    workloadProfiles: concat([
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ], gpuWorkloadProfiles)
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

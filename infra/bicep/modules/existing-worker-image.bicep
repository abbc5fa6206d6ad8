// The image the GPU worker runs now, if the app exists. `azd provision` after a deploy must not put the
// worker back on the placeholder image: with the Event Grid subscription in place, a placeholder that
// KEDA scales up against the queue would hold GPU replicas that never process a job. azd knows the
// deployed image only on the machine that deployed it (SERVICE_GPU_WORKER_IMAGE_NAME in .azure/<env>/.env),
// but it sets SERVICE_GPU_WORKER_RESOURCE_EXISTS on every provision (its container-app preprovision check),
// so the image is read back from the app itself. (The usual azd-template pattern, kept in its own module
// because a conditional `existing` reference can only be dereferenced behind the same condition.)

@description('Whether the container app exists (azd: SERVICE_GPU_WORKER_RESOURCE_EXISTS).')
param exists bool

@description('Name of the GPU worker container app.')
param appName string

resource workerApp 'Microsoft.App/containerApps@2025-01-01' existing = if (exists) {
  name: appName
}

output image string = exists ? workerApp!.properties.template.containers[0].image : ''

namespace CodeFormer.Engine.Runtime;

/// <summary>
/// An ONNX model whose inputs, outputs or shapes this engine cannot drive. The message names the model
/// and what is wrong with it, so a user can tell a wrong file from a wrong export.
/// </summary>
public sealed class ModelContractException(string message) : InvalidOperationException(message);

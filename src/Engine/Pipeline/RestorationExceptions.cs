namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// What a host does with a failed photo: <see cref="RefusedInput"/> is the photo's or the request's fault and will
/// fail again (reject it, never retry); <see cref="ModelFault"/> is the engine's, the model's or the runtime's
/// (retry later or elsewhere); <see cref="Cancelled"/> means the caller gave up.
/// </summary>
public enum RestorationFailureKind
{
    RefusedInput,
    ModelFault,
    Cancelled,
}

/// <summary>
/// Every failure <see cref="RestorationEngine.RestoreAsync"/> raises, except cancellation (an
/// <see cref="OperationCanceledException"/>), is one of these two subclasses, so hosts classify failures without
/// knowing ONNX Runtime, ImageSharp or decoder types; the original exception is the inner exception.
/// </summary>
public abstract class RestorationException(string message, Exception? innerException) : Exception(message, innerException)
{
    public abstract RestorationFailureKind Kind { get; }
}

/// <summary>
/// The photo or the request was refused: not an image, over a limit, an option out of range, or something this
/// engine was built without (e.g. no detector for whole photos). <see cref="Rule"/> names the image rule broken, if any.
/// </summary>
public sealed class PhotoRefusedException(string message, ImageRejectionRule? rule = null, Exception? innerException = null)
    : RestorationException(message, innerException)
{
    public ImageRejectionRule? Rule { get; } = rule;

    public override RestorationFailureKind Kind => RestorationFailureKind.RefusedInput;
}

/// <summary>
/// The engine failed on an acceptable photo: the network or the detector raised an ONNX Runtime error, the device ran
/// out of memory, or an internal error. The same photo may succeed on a retry or on another worker.
/// </summary>
public sealed class ModelFaultException(string message, Exception? innerException = null) : RestorationException(message, innerException)
{
    public override RestorationFailureKind Kind => RestorationFailureKind.ModelFault;
}

/// <summary>Sorts any exception from the engine into a <see cref="RestorationFailureKind"/>.</summary>
public static class RestorationFailure
{
    public static RestorationFailureKind Classify(Exception exception) => exception switch
    {
        OperationCanceledException => RestorationFailureKind.Cancelled,
        RestorationException restoration => restoration.Kind,
        ImageRejectedException => RestorationFailureKind.RefusedInput,
        // Anything else escaped the engine's own translation: treat it as the engine's fault, never the photo's.
        _ => RestorationFailureKind.ModelFault,
    };
}

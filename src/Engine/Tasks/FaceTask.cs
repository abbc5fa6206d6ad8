using CodeFormer.Engine.Models;
using CodeFormer.Network.Architecture;

namespace CodeFormer.Engine.Tasks;

/// <summary>What the one CodeFormer architecture is asked to do; each task has its own released checkpoint.</summary>
public enum FaceTask
{
    /// <summary>Blind face restoration of whole photos (codeformer.pth), the <see cref="Pipeline.RestorationEngine"/>.</summary>
    Restore,

    /// <summary>Colour for a grey aligned face (codeformer_colorization.pth, w = 0, AdaIN on).</summary>
    Colorize,

    /// <summary>Fill the masked part of an aligned face (codeformer_inpainting.pth, w = 1, AdaIN off).</summary>
    Inpaint,
}

/// <summary>
/// How each task runs the network, as the reference scripts do (doc B.1, B.11): which checkpoint, which layout,
/// which fidelity weight and whether AdaIN is applied. One place, so the CLI, hosts and conversion agree.
/// </summary>
public sealed record FaceTaskProfile(FaceTask Task, KnownModel Model, CodeFormerArchitecture Architecture, double Fidelity, bool AdaIn)
{
    /// <summary>Restoration's default w is the CLI's 0.5; the whole-photo engine takes it from its options.</summary>
    public static FaceTaskProfile Restore { get; } = new(FaceTask.Restore, ModelRegistry.CodeFormer, CodeFormerArchitecture.Full, 0.5, AdaIn: true);

    /// <summary>w = 0: the colorization model had no stage-3 training, so its fuse blocks are not used (doc B.11).</summary>
    public static FaceTaskProfile Colorize { get; } = new(FaceTask.Colorize, ModelRegistry.CodeFormerColorization, CodeFormerArchitecture.Colorization, 0.0, AdaIn: true);

    /// <summary>w = 1 and AdaIN off: the holes must not take their statistics from the white fill (doc B.11).</summary>
    public static FaceTaskProfile Inpaint { get; } = new(FaceTask.Inpaint, ModelRegistry.CodeFormerInpainting, CodeFormerArchitecture.Inpainting, 1.0, AdaIn: false);

    public static FaceTaskProfile For(FaceTask task) => task switch
    {
        FaceTask.Restore => Restore,
        FaceTask.Colorize => Colorize,
        FaceTask.Inpaint => Inpaint,
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown face task; expected restore, colorize or inpaint."),
    };
}

namespace CodeFormer.Engine.Pipeline;

/// <summary>The stages of a whole-photo restoration, in the order they run.</summary>
public enum RestorationStage
{
    Decode,
    Detect,
    Align,
    Restore,
    Background,
    Paste,
    Encode,
}

/// <summary>Progress of one photo: the stage running now and the fraction of the photo done (0–1).</summary>
public sealed record RestorationProgress(RestorationStage Stage, double Fraction, string Message);

using System.Globalization;
using System.Text.Json.Serialization;

namespace CodeFormer.Shared.Jobs;

/// <summary>Which upsampler enlarges the background.</summary>
public enum BackgroundUpsampler
{
    /// <summary>Bilinear resize (no model).</summary>
    None,
    /// <summary>Real-ESRGAN x2plus.</summary>
    RealEsrgan,
}

/// <summary>Which face detector finds the faces.</summary>
public enum FaceDetectorKind
{
    YuNet,
    RetinaFace,
}

/// <summary>The format a result is written in; <see cref="SameAsInput"/> keeps the upload's format.</summary>
public enum ResultFormat
{
    SameAsInput,
    Png,
    Jpeg,
    Webp,
}

/// <summary>
/// What the one CodeFormer architecture is asked to do (the engine's FaceTask): each task has its own checkpoint.
/// Colorize and inpaint work on one aligned 512×512 face and output that face, not the whole photo.
/// </summary>
public enum JobTask
{
    /// <summary>Blind restoration of the whole photo (the default).</summary>
    Restore,
    /// <summary>Colour for a grey face: an aligned 512×512 crop, or (aligned false) the photo's largest face aligned first.</summary>
    Colorize,
    /// <summary>Fill the pure-white pixels of an aligned 512×512 face (the mask is read from the input itself).</summary>
    Inpaint,
}

/// <summary>
/// What a user may ask of one restoration. The same ranges as the CLI (and the engine's RestorationOptions),
/// validated here in one place for the HTTP API, the blob metadata and the worker.
/// </summary>
public sealed record JobOptions
{
    public const double DefaultFidelity = 0.5;
    public const int DefaultUpscale = 2;
    /// <summary>A photo with more faces than this is still restored, but only the best this many.</summary>
    public const int MaxFacesLimit = 100;

    /// <summary>Restore (default), colorize or inpaint; see <see cref="Validate"/> for the options the other tasks refuse.</summary>
    public JobTask Task { get; set; } = JobTask.Restore;

    /// <summary>Fidelity weight w in [0, 1]: 0 favours quality, 1 fidelity to the input.</summary>
    public double Fidelity { get; set; } = DefaultFidelity;

    /// <summary>Final upscale factor of the whole photo, 1–4.</summary>
    public int Upscale { get; set; } = DefaultUpscale;

    public BackgroundUpsampler BackgroundUpsampler { get; set; } = BackgroundUpsampler.None;

    /// <summary>Run the background upsampler on each restored face too (needs the background upsampler).</summary>
    public bool FaceUpsample { get; set; }

    public FaceDetectorKind Detector { get; set; } = FaceDetectorKind.YuNet;

    public bool OnlyCenterFace { get; set; }

    /// <summary>Restore at most this many faces (best scores first); null restores all.</summary>
    public int? MaxFaces { get; set; }

    /// <summary>The input is already an aligned 512×512 face crop: no detection, no paste-back.</summary>
    public bool Aligned { get; set; }

    public ResultFormat OutputFormat { get; set; } = ResultFormat.SameAsInput;

    /// <summary>Where to POST the signed completion notice; https and a public address (see WebhookUrlPolicy).</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>A fresh instance each time: the options are settable (the source-generated JSON reader needs setters to keep
    /// the defaults of fields a body leaves out), so one shared instance could be changed by a caller.</summary>
    public static JobOptions Default => new();

    /// <summary>Every option out of range, each naming the field (camelCase, as in the JSON) and the allowed range.</summary>
    public IReadOnlyList<OptionError> Validate()
    {
        var errors = new List<OptionError>();
        if (!double.IsFinite(Fidelity) || Fidelity < 0 || Fidelity > 1)
        {
            errors.Add(new("fidelity", $"must be in [0, 1], got {Fidelity.ToString(CultureInfo.InvariantCulture)}"));
        }
        if (Upscale is < 1 or > 4)
        {
            errors.Add(new("upscale", $"must be 1, 2, 3 or 4, got {Upscale}"));
        }
        if (MaxFaces is < 1 or > MaxFacesLimit)
        {
            errors.Add(new("maxFaces", $"must be in 1–{MaxFacesLimit} (or absent for all faces), got {MaxFaces}"));
        }
        if (!Enum.IsDefined(BackgroundUpsampler))
        {
            errors.Add(new("backgroundUpsampler", "must be none or realEsrgan"));
        }
        if (!Enum.IsDefined(Detector))
        {
            errors.Add(new("detector", "must be yuNet or retinaFace"));
        }
        if (!Enum.IsDefined(OutputFormat))
        {
            errors.Add(new("outputFormat", "must be sameAsInput, png, jpeg or webp"));
        }
        if (FaceUpsample && BackgroundUpsampler == BackgroundUpsampler.None)
        {
            errors.Add(new("faceUpsample", "needs backgroundUpsampler realEsrgan (faces are upsampled with the background model)"));
        }
        if (Aligned && (OnlyCenterFace || MaxFaces is not null))
        {
            errors.Add(new("aligned", "an aligned face crop has exactly one face: onlyCenterFace and maxFaces do not apply"));
        }
        if (!Enum.IsDefined(Task))
        {
            errors.Add(new("task", "must be restore, colorize or inpaint"));
        }
        else if (Task != JobTask.Restore)
        {
            AddFaceTaskErrors(errors);
        }
        if (WebhookUrl is not null && (WebhookUrl.Length > 2048 || !Uri.TryCreate(WebhookUrl, UriKind.Absolute, out _)))
        {
            errors.Add(new("webhookUrl", "must be an absolute URL of at most 2048 characters"));
        }
        return errors;
    }

    /// <summary>
    /// The engine's rules for colorize and inpaint (FaceTaskOptions.Validate and FaceTaskEngine), checked here so a job
    /// the engine would refuse is refused at the door. Their output is one 512×512 aligned face at the task's own fixed
    /// fidelity (colorize w = 0, inpaint w = 1), so fidelity and upscale are ignored (their defaults cannot be told from
    /// a value the user did not send); the whole-photo options below are refused, since asking for them is a mistake.
    /// </summary>
    private void AddFaceTaskErrors(List<OptionError> errors)
    {
        var task = Task.ToString().ToLowerInvariant();
        if (Task == JobTask.Inpaint && !Aligned)
        {
            // The mask is the input's pure-white pixels: aligning a photo first would move them off the face they mark.
            errors.Add(new("aligned", "task inpaint takes an aligned 512×512 face with its mask painted pure white: set aligned true"));
        }
        if (BackgroundUpsampler != BackgroundUpsampler.None)
        {
            errors.Add(new("backgroundUpsampler", $"does not apply to task {task}: its output is the 512×512 face, with no background"));
        }
        if (FaceUpsample)
        {
            errors.Add(new("faceUpsample", $"does not apply to task {task}: its output is the 512×512 face"));
        }
        if (OnlyCenterFace || MaxFaces is not null)
        {
            errors.Add(new("task", $"task {task} works on one face (the aligned crop, or the largest face): onlyCenterFace and maxFaces do not apply"));
        }
    }

    /// <summary>Throws <see cref="InvalidJobOptionsException"/> naming every bad field.</summary>
    public JobOptions EnsureValid()
    {
        var errors = Validate();
        return errors.Count == 0 ? this : throw new InvalidJobOptionsException(errors);
    }
}

/// <summary>One option out of range: the field as named in the JSON body or blob metadata, and why.</summary>
public sealed record OptionError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>Job options that break a rule; <see cref="Errors"/> names each field.</summary>
public sealed class InvalidJobOptionsException : Exception
{
    public InvalidJobOptionsException(IReadOnlyList<OptionError> errors)
        : base("Invalid job options: " + string.Join("; ", errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<OptionError> Errors { get; }
}

using System.Globalization;

namespace CodeFormer.Shared.Jobs;

/// <summary>
/// Job options carried as blob metadata on a direct upload (<c>x-ms-meta-fidelity: 0.7</c>). Metadata names must be
/// C# identifiers, so they are lower-case with underscores. An unknown name is ignored (tools add their own metadata);
/// a known name with a bad value is refused by name.
/// </summary>
public static class BlobMetadataOptions
{
    public const string Fidelity = "fidelity";
    public const string Upscale = "upscale";
    public const string BackgroundUpsampler = "bg_upsampler";
    public const string FaceUpsample = "face_upsample";
    public const string Detector = "detector";
    public const string OnlyCenterFace = "only_center_face";
    public const string MaxFaces = "max_faces";
    public const string Aligned = "aligned";
    public const string OutputFormat = "output_format";
    public const string WebhookUrl = "webhook_url";
    public const string Task = "task";

    /// <summary>Parses and validates; throws <see cref="InvalidJobOptionsException"/> naming every bad field.</summary>
    public static JobOptions Parse(IDictionary<string, string>? metadata)
    {
        var options = JobOptions.Default;
        if (metadata is null || metadata.Count == 0)
        {
            return options;
        }
        // Azure returns metadata names in the case they were set with; compare case-insensitively.
        var values = new Dictionary<string, string>(metadata, StringComparer.OrdinalIgnoreCase);
        var errors = new List<OptionError>();

        string? Get(string key) => values.TryGetValue(key, out var v) ? v.Trim() : null;

        if (Get(Fidelity) is { } fidelity)
        {
            if (double.TryParse(fidelity, NumberStyles.Float, CultureInfo.InvariantCulture, out var w)) { options = options with { Fidelity = w }; }
            else { errors.Add(new(Fidelity, $"'{fidelity}' is not a number")); }
        }
        if (Get(Upscale) is { } upscale)
        {
            if (int.TryParse(upscale, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) { options = options with { Upscale = s }; }
            else { errors.Add(new(Upscale, $"'{upscale}' is not an integer")); }
        }
        if (Get(MaxFaces) is { } maxFaces)
        {
            if (int.TryParse(maxFaces, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m)) { options = options with { MaxFaces = m }; }
            else { errors.Add(new(MaxFaces, $"'{maxFaces}' is not an integer")); }
        }
        if (Get(BackgroundUpsampler) is { } bg)
        {
            if (bg.Equals("none", StringComparison.OrdinalIgnoreCase)) { options = options with { BackgroundUpsampler = Jobs.BackgroundUpsampler.None }; }
            else if (bg.Equals("realesrgan", StringComparison.OrdinalIgnoreCase)) { options = options with { BackgroundUpsampler = Jobs.BackgroundUpsampler.RealEsrgan }; }
            else { errors.Add(new(BackgroundUpsampler, $"'{bg}' is not none or realesrgan")); }
        }
        if (Get(Detector) is { } detector)
        {
            if (detector.Equals("yunet", StringComparison.OrdinalIgnoreCase)) { options = options with { Detector = FaceDetectorKind.YuNet }; }
            else if (detector.Equals("retinaface", StringComparison.OrdinalIgnoreCase)) { options = options with { Detector = FaceDetectorKind.RetinaFace }; }
            else { errors.Add(new(Detector, $"'{detector}' is not yunet or retinaface")); }
        }
        if (Get(OutputFormat) is { } format)
        {
            ResultFormat? parsed = format.ToLowerInvariant() switch
            {
                "png" => ResultFormat.Png,
                "jpg" or "jpeg" => ResultFormat.Jpeg,
                "webp" => ResultFormat.Webp,
                "same" or "sameasinput" => ResultFormat.SameAsInput,
                _ => null,
            };
            if (parsed is { } f) { options = options with { OutputFormat = f }; }
            else { errors.Add(new(OutputFormat, $"'{format}' is not png, jpg, webp or same")); }
        }
        if (Get(Task) is { } task)
        {
            JobTask? parsed = task.ToLowerInvariant() switch
            {
                "restore" => JobTask.Restore,
                "colorize" => JobTask.Colorize,
                "inpaint" => JobTask.Inpaint,
                _ => null,
            };
            if (parsed is { } t) { options = options with { Task = t }; }
            else { errors.Add(new(Task, $"'{task}' is not restore, colorize or inpaint")); }
        }
        options = ParseFlag(Get(FaceUpsample), FaceUpsample, errors, options, (o, v) => o with { FaceUpsample = v });
        options = ParseFlag(Get(OnlyCenterFace), OnlyCenterFace, errors, options, (o, v) => o with { OnlyCenterFace = v });
        options = ParseFlag(Get(Aligned), Aligned, errors, options, (o, v) => o with { Aligned = v });
        if (Get(WebhookUrl) is { Length: > 0 } webhook)
        {
            options = options with { WebhookUrl = webhook };
        }

        if (errors.Count == 0)
        {
            errors.AddRange(options.Validate());
        }
        return errors.Count == 0 ? options : throw new InvalidJobOptionsException(errors);
    }

    private static JobOptions ParseFlag(string? value, string name, List<OptionError> errors, JobOptions options, Func<JobOptions, bool, JobOptions> apply)
    {
        if (value is null)
        {
            return options;
        }
        if (bool.TryParse(value, out var flag)) { return apply(options, flag); }
        if (value == "1") { return apply(options, true); }
        if (value == "0") { return apply(options, false); }
        errors.Add(new(name, $"'{value}' is not true or false"));
        return options;
    }
}

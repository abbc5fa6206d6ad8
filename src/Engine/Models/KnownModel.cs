namespace CodeFormer.Engine.Models;

/// <summary>How a user gets a model file onto their machine.</summary>
public enum ModelAcquisition
{
    /// <summary>The file at <see cref="KnownModel.Url"/> is exactly <see cref="KnownModel.FileName"/>: it can be downloaded and verified.</summary>
    Download,

    /// <summary>
    /// No official download of <see cref="KnownModel.FileName"/> exists. <see cref="KnownModel.Url"/> points at the
    /// upstream weights the file is exported from; the user exports it and passes or places it by hand.
    /// </summary>
    ExportFromUpstream,
}

/// <summary>A model file the project knows: where it comes from, how to check it, under which licence, and what it contains.</summary>
/// <param name="Name">Short name used on the command line and in messages ("codeformer").</param>
/// <param name="Url">Official location of the weights (see <see cref="Acquisition"/> for whether it is the file itself).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of <paramref name="FileName"/>, or null when no trustworthy value is known.</param>
/// <param name="SizeBytes">Exact size of <paramref name="FileName"/>, or null when unknown.</param>
/// <param name="Licence">Licence of the weights, in words.</param>
/// <param name="Contract">What the file contains and how the engine uses it.</param>
/// <param name="FileName">Name of the file in the model cache.</param>
public sealed record KnownModel(
    string Name,
    Uri Url,
    string? Sha256,
    long? SizeBytes,
    string Licence,
    string Contract,
    string FileName)
{
    public ModelAcquisition Acquisition { get; init; } = ModelAcquisition.Download;

    /// <summary>
    /// Text a user must see before the weights are fetched (non-commercial licences). Null when the licence
    /// asks for no such notice.
    /// </summary>
    public string? LicenceNotice { get; init; }

    /// <summary>What a user must do when the file cannot be downloaded directly (export steps), or null.</summary>
    public string? ManualStep { get; init; }
}

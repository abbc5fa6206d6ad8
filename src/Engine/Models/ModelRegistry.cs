namespace CodeFormer.Engine.Models;

/// <summary>
/// The models the engine knows by name. Hashes and sizes: codeformer.pth and RealESRGAN_x2plus.pth from the
/// reference (section C; third-party verifications, not published by the authors); the two detector ONNX files
/// computed from the project's shared assets (YuNet there is byte-identical to the OpenCV Zoo file).
/// </summary>
public static class ModelRegistry
{
    public const string CodeFormerLicenceNotice =
        "CodeFormer weights (codeformer.pth) are licensed under the NTU S-Lab License 1.0: redistribution and use, " +
        "with or without modification, are permitted for NON-COMMERCIAL purposes only. Commercial use requires " +
        "permission from the authors (https://github.com/sczhou/CodeFormer/blob/master/LICENSE). " +
        "Outputs made with these weights inherit this restriction in the authors' reading. " +
        "Downloading them means you accept these terms.";

    public static KnownModel CodeFormer { get; } = new(
        Name: "codeformer",
        Url: new Uri("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth"),
        Sha256: "1009e537e0c2a07d4cabce6355f53cb66767cd4b4297ec7a4a64ca4b8a5684b7",
        SizeBytes: 376_637_898,
        Licence: "S-Lab License 1.0 (non-commercial)",
        Contract: "pytorch-checkpoint (state dict under 'params_ema', 515 tensors) → converted to ONNX on first use",
        FileName: "codeformer.pth")
    {
        LicenceNotice = CodeFormerLicenceNotice,
    };

    /// <summary>The same S-Lab terms, said for the task checkpoints by their own names.</summary>
    public static string TaskLicenceNotice(string fileName) => CodeFormerLicenceNotice.Replace("codeformer.pth", fileName, StringComparison.Ordinal);

    /// <summary>
    /// Colorization (doc B.11, C): codebook 1024, fuse at 32/64/128, 93,046,083 parameters. Neither its size nor a
    /// SHA-256 is published anywhere we could find, so the first download is pinned (trust on first use, said visibly).
    /// </summary>
    public static KnownModel CodeFormerColorization { get; } = new(
        Name: "codeformer-colorization",
        Url: new Uri("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer_colorization.pth"),
        Sha256: null,
        SizeBytes: null,
        Licence: "S-Lab License 1.0 (non-commercial)",
        Contract: "pytorch-checkpoint (codebook 1024, connect list 32/64/128) → converted to ONNX on first use (AdaIN on; run at w = 0)",
        FileName: "codeformer_colorization.pth")
    {
        LicenceNotice = TaskLicenceNotice("codeformer_colorization.pth"),
    };

    /// <summary>
    /// Inpainting (doc B.11, C): codebook 512, fuse at 32/64/128, 92,652,867 parameters, 370,786,611 bytes. Only an MD5
    /// and an unverified, truncated SHA-256 are known, so the size is checked and the SHA-256 is pinned on first download.
    /// </summary>
    public static KnownModel CodeFormerInpainting { get; } = new(
        Name: "codeformer-inpainting",
        Url: new Uri("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer_inpainting.pth"),
        Sha256: null,
        SizeBytes: 370_786_611,
        Licence: "S-Lab License 1.0 (non-commercial)",
        Contract: "pytorch-checkpoint (codebook 512, connect list 32/64/128) → converted to ONNX on first use (AdaIN off; run at w = 1)",
        FileName: "codeformer_inpainting.pth")
    {
        LicenceNotice = TaskLicenceNotice("codeformer_inpainting.pth"),
    };

    public static KnownModel YuNet { get; } = new(
        Name: "yunet",
        Url: new Uri("https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx"),
        Sha256: "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        SizeBytes: 232_589,
        Licence: "MIT (OpenCV Zoo)",
        Contract: "onnx: input float32 [1,3,640,640] BGR 0..255 without normalisation; 12 outputs cls/obj/bbox/kps at strides 8, 16, 32",
        FileName: "face_detection_yunet_2023mar.onnx");

    public static KnownModel RetinaFaceMobile { get; } = new(
        Name: "retinaface-mobile0.25",
        Url: new Uri("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/detection_mobilenet0.25_Final.pth"),
        Sha256: "e0e19bad8494b3f7a7edb39a90194ff055923e13a3453569a454386f857fe538",
        SizeBytes: 1_729_306,
        Licence: "MIT (biubug6 Pytorch_Retinaface)",
        Contract: "onnx: input0 float32 [1,3,640,640] BGR minus mean (104,117,123); outputs loc [1,16800,4], conf [1,16800,2] (softmaxed), landmarks [1,16800,10]",
        FileName: "retinaface_mobilenet0.25_640.onnx")
    {
        // Honest gap: nobody publishes this ONNX officially. The hash is that of the project's reference export;
        // an export of your own has different bytes and must be passed as an explicit path.
        Acquisition = ModelAcquisition.ExportFromUpstream,
        ManualStep =
            "There is no official ONNX download: export it from the .pth at the URL above (biubug6 Pytorch_Retinaface, " +
            "mobilenet0.25, fixed 640×640 input) and pass it as an explicit detector model path.",
    };

    public static KnownModel RealEsrganX2 { get; } = new(
        Name: "realesrgan-x2",
        Url: new Uri("https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.1/RealESRGAN_x2plus.pth"),
        Sha256: "49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
        SizeBytes: 67_061_725,
        Licence: "BSD-3-Clause",
        Contract:
            "pytorch-checkpoint (RRDBNet under 'params_ema': 23 blocks, 64 features, grow 32, scale 2; 702 tensors) → " +
            "converted to ONNX on first use (input float32 [1,3,H,W] RGB 0..1, output [1,3,2H,2W]); --bg-model takes an ONNX instead",
        FileName: "RealESRGAN_x2plus.pth");

    public static IReadOnlyList<KnownModel> All { get; } = [CodeFormer, CodeFormerColorization, CodeFormerInpainting, YuNet, RetinaFaceMobile, RealEsrganX2];

    /// <summary>Finds a model by name (case-insensitive); an unknown name is an error listing the known ones.</summary>
    public static KnownModel Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException(
                $"Unknown model '{name}'. Known models: {string.Join(", ", All.Select(m => m.Name))}.", nameof(name));
    }
}

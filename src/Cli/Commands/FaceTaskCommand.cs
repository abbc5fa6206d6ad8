using System.CommandLine;
using CodeFormer.Cli.Output;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Tasks;

namespace CodeFormer.Cli.Commands;

/// <summary>
/// <c>codeformer colorize</c> and <c>codeformer inpaint</c>: the paper's two other tasks on aligned 512 × 512 faces,
/// with the task's own checkpoint, w and AdaIN setting. Each input gives <c>&lt;output&gt;/&lt;name&gt;.&lt;ext&gt;</c>.
/// </summary>
internal static class FaceTaskCommand
{
    public static Command Create(FaceTask task)
    {
        bool colorize = task == FaceTask.Colorize;
        var inputs = new Argument<string[]>("inputs") { Description = "Aligned 512 × 512 faces (JPEG, PNG, WebP) or folders of them.", Arity = ArgumentArity.OneOrMore };
        var align = new Option<bool>("--align") { Description = "Detect and align the largest face of each photo first (the output is that aligned face)." };
        var mask = new Option<FileInfo?>("--mask") { Description = "A mask image of the face's size: white = fill. Without it, the input's pure-white pixels are filled (as the reference)." };
        var device = new Option<string>("--device") { Description = "Execution device: auto tries CUDA, then falls back to CPU.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var model = new Option<FileInfo?>("--model") { Description = $"The {(colorize ? "colorization" : "inpainting")} model: ONNX, or a .pth converted once into the model cache (overrides the cache)." };
        var detectorModel = new Option<FileInfo?>("--detector-model") { Description = "Face detector ONNX model for --align (overrides the model cache)." };
        var modelsDir = new Option<DirectoryInfo?>("--models-dir") { Description = "Model cache directory (default: $CODEFORMER_MODELS or ~/.cache/codeformer-cloud)." };
        var offline = new Option<bool>("--offline") { Description = "Never download models; fail with instructions instead." };
        var format = new Option<string?>("--format") { Description = "Output format: png, jpg or webp (default: the input's)." };
        format.AcceptOnlyFromAmong("png", "jpg", "jpeg", "webp");
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Output folder.", DefaultValueFactory = _ => new DirectoryInfo("results") };

        var command = colorize
            ? new Command("colorize", "Colour grey aligned faces with codeformer_colorization.pth (w = 0, AdaIN on, as the reference script).") { inputs, align }
            : new Command("inpaint", "Fill the white (or --mask) part of aligned faces with codeformer_inpainting.pth (w = 1, AdaIN off, as the reference script).") { inputs, mask };
        foreach (var option in new Option[] { device, model, detectorModel, modelsDir, offline, format, output })
        {
            command.Options.Add(option);
        }
        command.SetAction((result, cancellationToken) => CommandErrors.RunAsync(async () =>
        {
            var files = InputCollector.Collect(result.GetValue(inputs)!);
            byte[]? maskBytes = null;
            if (!colorize && result.GetValue(mask) is { } maskFile)
            {
                maskBytes = maskFile.Exists ? await File.ReadAllBytesAsync(maskFile.FullName, cancellationToken)
                    : throw new FileNotFoundException($"Mask '{maskFile.FullName}' does not exist.");
            }
            bool alignFirst = colorize && result.GetValue(align);
            var options = new FaceTaskOptions
            {
                Task = task,
                AlignFirst = alignFirst,
                Mask = maskBytes is null ? (ReadOnlyMemory<byte>?)null : maskBytes,
                OutputFormat = result.GetValue(format) is { } f ? OutputFormat.FromExtension("." + f) : null,
            };
            options.Validate();
            var settings = new EngineSettings
            {
                Device = Enum.Parse<ExecutionDevice>(result.GetValue(device)!, ignoreCase: true),
                Detector = DetectorKind.YuNet,
                ModelPath = result.GetValue(model)?.FullName,
                DetectorModelPath = result.GetValue(detectorModel)?.FullName,
                ModelsDirectory = result.GetValue(modelsDir)?.FullName,
                Offline = result.GetValue(offline),
                NeedsDetector = alignFirst,
            };
            using var engine = await FaceTaskEngineFactory.CreateAsync(task, settings, alignFirst, Console.Error.WriteLine, cancellationToken: cancellationToken);
            string root = result.GetValue(output)!.FullName;
            Directory.CreateDirectory(root);
            var names = OutputNames.For(files);
            int failed = 0;
            for (int i = 0; i < files.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    var outcome = await engine.RunAsync(await File.ReadAllBytesAsync(files[i], cancellationToken), options, cancellationToken);
                    string target = Path.Combine(root, names[i] + OutputFormat.ExtensionOf(outcome.Format));
                    await WriteAtomicallyAsync(target, outcome.Image, cancellationToken);
                    string detail = task == FaceTask.Inpaint ? $", {outcome.MaskedPixels} pixels filled" : "";
                    Console.WriteLine($"{files[i]} → {target} ({outcome.Width} × {outcome.Height}{detail})");
                    foreach (var warning in outcome.Warnings)
                    {
                        Console.Error.WriteLine($"warning: {files[i]}: {warning}");
                    }
                }
                catch (Exception ex) when (CommandErrors.IsUserFacing(ex))
                {
                    failed++;
                    Console.Error.WriteLine($"failed: {files[i]}: {BatchRunner.Describe(ex)}");
                }
            }
            Console.WriteLine($"{files.Count - failed} {(colorize ? "colorized" : "inpainted")}, {failed} failed");
            return failed > 0 ? CommandErrors.Failure : 0;
        }));
        return command;
    }

    private static async Task WriteAtomicallyAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        string temporary = path + ".tmp";
        await File.WriteAllBytesAsync(temporary, bytes, cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }
}

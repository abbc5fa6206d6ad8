using System.CommandLine;
using CodeFormer.Cli.Output;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Video;
using Spectre.Console;

namespace CodeFormer.Cli.Commands;

/// <summary><c>codeformer restore &lt;files or folders…&gt;</c>: the whole-photo pipeline on local files.</summary>
internal static class RestoreCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "Photos (JPEG, PNG, WebP) or folders of photos.", Arity = ArgumentArity.OneOrMore };
        var fidelity = new Option<double>("--fidelity", "-w") { Description = "Fidelity weight w in [0, 1]: lower favours quality, higher fidelity to the input.", DefaultValueFactory = _ => 0.5 };
        var upscale = new Option<int>("--upscale", "-s") { Description = "Final upscale factor of the photo (1–4).", DefaultValueFactory = _ => 2 };
        var bgUpsampler = new Option<string?>("--bg-upsampler") { Description = "Background upsampler: realesrgan (RealESRGAN_x2plus, downloaded and converted to ONNX once, or see --bg-model)." };
        bgUpsampler.AcceptOnlyFromAmong("realesrgan", "none");
        var bgModel = new Option<FileInfo?>("--bg-model") { Description = "Real-ESRGAN x2 model for --bg-upsampler / --face-upsample: ONNX, or the official .pth converted once into the model cache (overrides the cache)." };
        var faceUpsample = new Option<bool>("--face-upsample") { Description = "Also upsample restored faces with the background upsampler." };
        var aligned = new Option<bool>("--aligned") { Description = "Inputs are aligned face crops: no detection, no paste-back." };
        var onlyCenter = new Option<bool>("--only-center-face") { Description = "Restore only the face closest to the image centre." };
        var drawBox = new Option<bool>("--draw-box") { Description = "Draw a box around each restored face." };
        var maxFaces = new Option<int?>("--max-faces") { Description = "Restore at most this many faces per photo (highest scores first)." };
        var minFaceSize = new Option<float>("--min-face-size") { Description = "Ignore faces smaller than this many pixels.", DefaultValueFactory = _ => 0 };
        var detector = new Option<string>("--detector") { Description = "Face detector.", DefaultValueFactory = _ => "yunet" };
        detector.AcceptOnlyFromAmong("yunet", "retinaface");
        var device = new Option<string>("--device") { Description = "Execution device: auto tries CUDA, then falls back to CPU.", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var model = new Option<FileInfo?>("--model") { Description = "CodeFormer ONNX model, or a .pth checkpoint converted once into the model cache (overrides the cache); a <name>.w0.onnx beside an ONNX model is used at w = 0." };
        var detectorModel = new Option<FileInfo?>("--detector-model") { Description = "Face detector ONNX model (overrides the model cache)." };
        var modelsDir = new Option<DirectoryInfo?>("--models-dir") { Description = "Model cache directory (default: $CODEFORMER_MODELS or ~/.cache/codeformer-cloud)." };
        var offline = new Option<bool>("--offline") { Description = "Never download models; fail with instructions instead." };
        var format = new Option<string?>("--format") { Description = "Output format: png, jpg or webp (default: the input's)." };
        format.AcceptOnlyFromAmong("png", "jpg", "jpeg", "webp");
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Output folder.", DefaultValueFactory = _ => new DirectoryInfo("results") };
        var batch = new Option<int?>("--batch-size") { Description = "Most faces per network call (default: 1 on CPU, 8 on CUDA)." };
        var ffmpeg = new Option<FileInfo?>("--ffmpeg") { Description = "Videos: the ffmpeg executable (ffprobe beside it); default: found on the PATH." };
        var crf = new Option<int>("--crf") { Description = "Videos: encoder quality, CRF 0–51 (lower is better and larger).", DefaultValueFactory = _ => 18 };
        var noSmoothing = new Option<bool>("--no-smoothing") { Description = "Videos: detect and align every frame on its own (as the reference) instead of tracking faces and smoothing their landmarks." };

        var command = new Command("restore", "Restore every face in photos: detect, align, restore with CodeFormer, paste back.")
        {
            inputs, fidelity, upscale, bgUpsampler, bgModel, faceUpsample, aligned, onlyCenter, drawBox, maxFaces, minFaceSize,
            detector, device, model, detectorModel, modelsDir, offline, format, output, batch, ffmpeg, crf, noSmoothing,
        };
        command.SetAction((result, cancellationToken) => CommandErrors.RunAsync(async () =>
        {
            var all = InputCollector.Collect(result.GetValue(inputs)!, includeVideos: true);
            var allNames = OutputNames.For(all);
            var files = all.Where(f => !InputCollector.IsVideo(f)).ToList();
            var videos = all.Where(InputCollector.IsVideo).ToList();
            var options = new RestorationOptions
            {
                Fidelity = result.GetValue(fidelity),
                Upscale = result.GetValue(upscale),
                InputIsAligned = result.GetValue(aligned),
                OnlyCenterFace = result.GetValue(onlyCenter),
                DrawBox = result.GetValue(drawBox),
                MaxFaces = result.GetValue(maxFaces),
                MinFaceSize = result.GetValue(minFaceSize),
                BackgroundUpsample = result.GetValue(bgUpsampler) == "realesrgan",
                FaceUpsample = result.GetValue(faceUpsample),
                OutputFormat = result.GetValue(format) is { } f ? OutputFormat.FromExtension("." + f) : null,
                IncludeFaceImages = true,
                IncludeComparison = true,
            };
            options.Validate();
            var engineSettings = new EngineSettings
            {
                Device = Enum.Parse<ExecutionDevice>(result.GetValue(device)!, ignoreCase: true),
                Detector = result.GetValue(detector) == "retinaface" ? DetectorKind.RetinaFace : DetectorKind.YuNet,
                ModelPath = result.GetValue(model)?.FullName,
                DetectorModelPath = result.GetValue(detectorModel)?.FullName,
                BackgroundModelPath = result.GetValue(bgModel)?.FullName,
                ModelsDirectory = result.GetValue(modelsDir)?.FullName,
                Offline = result.GetValue(offline),
                BatchSize = result.GetValue(batch),
                NeedsDetector = !options.InputIsAligned,
                NeedsBackgroundModel = options.BackgroundUpsample,
            };
            using var http = new HttpClient();
            var factory = new RestorationEngineFactory(new StderrLogger<RestorationEngineFactory>(), http);
            var writer = new ResultWriter(result.GetValue(output)!.FullName);
            var outcomes = new List<PhotoOutcome>();
            if (videos.Count > 0)
            {
                var videoOptions = new VideoOptions
                {
                    Restoration = options with { IncludeComparison = false, IncludeFaceImages = false },
                    Crf = result.GetValue(crf),
                    Smoothing = !result.GetValue(noSmoothing),
                };
                videoOptions.Validate();
                // ffmpeg is looked for before any model is loaded, so a missing tool is the first and only message.
                var tools = FfmpegTools.Locate(result.GetValue(ffmpeg)?.FullName);
                using var restorer = await VideoRestorer.CreateAsync(engineSettings with { NeedsDetector = true }, tools, Console.Error.WriteLine, http, cancellationToken);
                var videoNames = videos.Select(v => allNames[all.ToList().IndexOf(v)]).ToList();
                outcomes.AddRange(await new VideoRunner(restorer, AnsiConsole.Console, Console.Error).RunAsync(videos, videoNames, writer.OutputRoot, videoOptions, cancellationToken));
            }
            if (files.Count > 0)
            {
                using var engine = await factory.CreateAsync(engineSettings, cancellationToken);
                outcomes.AddRange(await new BatchRunner(engine, writer, AnsiConsole.Console).RunAsync(files, options, cancellationToken));
            }
            SummaryTable.Render(AnsiConsole.Console, outcomes, writer.OutputRoot, Console.Error);
            return outcomes.Any(o => !o.Succeeded) ? CommandErrors.Failure : 0;
        }));
        return command;
    }
}

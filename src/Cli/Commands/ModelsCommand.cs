using System.CommandLine;
using System.Diagnostics;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.RealEsrgan;
using CodeFormer.Network.Weights;

namespace CodeFormer.Cli.Commands;

/// <summary><c>codeformer models build|convert|convert-realesrgan|inspect</c>: make, convert and look into the ONNX models.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var models = new Command("models", "Build, convert and inspect CodeFormer ONNX models.");
        models.Subcommands.Add(CreateBuild());
        models.Subcommands.Add(CreateConvert());
        models.Subcommands.Add(CreateConvertRealEsrgan());
        models.Subcommands.Add(CreateInspect());
        return models;
    }

    private static Command CreateBuild()
    {
        var random = new Option<bool>("--random") { Description = "Fill the network with deterministic pseudo-random weights (the only source build supports; real weights come from 'models convert')." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the pseudo-random weights.", DefaultValueFactory = _ => 0 };
        var config = new Option<string>("--config") { Description = "Architecture: full (the released model) or tiny (reduced, for tests); also inpainting, colorization and their tiny-… versions (inpainting ones are built with AdaIN off).", DefaultValueFactory = _ => "full" };
        config.AcceptOnlyFromAmong(ArchitectureChoice.Names);
        var fp16 = new Option<bool>("--fp16") { Description = "Half-precision weights and compute (float32 inputs and outputs), for GPUs." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Path of the ONNX model to write; the w = 0 graph is written beside it as <name>.w0.onnx.", Required = true };
        var command = new Command("build", "Emit the CodeFormer network as ONNX.") { random, seed, config, fp16, output };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            if (!result.GetValue(random))
            {
                throw new ArgumentException("'models build' needs --random; to use the released weights run 'models convert codeformer.pth -o codeformer.onnx'.");
            }
            var architecture = ArchitectureChoice.Parse(result.GetValue(config)!);
            var path = result.GetValue(output)!.FullName;
            var precision = result.GetValue(fp16) ? OnnxPrecision.Float16 : OnnxPrecision.Float32;
            var stopwatch = Stopwatch.StartNew();
            var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), result.GetValue(seed));
            var export = new CodeFormerExportOptions
            {
                Precision = precision,
                WeightsLicense = RandomWeights.LicenseNote(result.GetValue(seed)),
                AdaIn = ArchitectureChoice.AdaInFor(result.GetValue(config)!),
            };
            CodeFormerOnnxExporter.WriteFile(architecture, weights, path, export);
            var codeOnlyPath = CodeFormerOnnxExporter.CodeOnlyPathFor(path);
            CodeFormerOnnxExporter.WriteFile(architecture, weights, codeOnlyPath, export with { IncludeFuseBlocks = false });
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes) and {codeOnlyPath} ({new FileInfo(codeOnlyPath).Length:N0} bytes): " +
                $"{weights.TotalElements:N0} parameters, {precision}, seed {result.GetValue(seed)}, in {stopwatch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }

    private static Command CreateConvert()
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A PyTorch checkpoint (codeformer.pth, zip or legacy format; params_ema preferred, params accepted)." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Path of the ONNX model to write; the w = 0 graph is written beside it as <name>.w0.onnx.", Required = true };
        var fp16 = new Option<bool>("--fp16") { Description = "Half-precision weights and compute (float32 inputs and outputs), for GPUs." };
        var config = new Option<string>("--config") { Description = "Architecture of the checkpoint.", DefaultValueFactory = _ => "full" };
        config.AcceptOnlyFromAmong(ArchitectureChoice.Names);
        var command = new Command("convert", "Convert a CodeFormer PyTorch checkpoint to ONNX (no Python needed).") { checkpoint, output, fp16, config };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            Console.Error.WriteLine(ModelRegistry.TaskLicenceNotice(result.GetValue(checkpoint)!.Name));
            var stopwatch = Stopwatch.StartNew();
            var conversion = CheckpointConverter.Convert(
                result.GetValue(checkpoint)!.FullName,
                result.GetValue(output)!.FullName,
                ArchitectureChoice.Parse(result.GetValue(config)!),
                result.GetValue(fp16),
                new Progress<string>(Console.Error.WriteLine),
                adaIn: ArchitectureChoice.AdaInFor(result.GetValue(config)!));
            Console.WriteLine($"{conversion} in {stopwatch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }

    private static Command CreateConvertRealEsrgan()
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A Real-ESRGAN RRDBNet checkpoint (RealESRGAN_x2plus.pth; params_ema, params or a plain state dict)." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Path of the ONNX model to write (input [1,3,H,W] RGB 0..1, output scaled by the model's factor).", Required = true };
        var command = new Command("convert-realesrgan", "Convert a Real-ESRGAN PyTorch checkpoint to ONNX for --bg-model (no Python needed; the architecture is read off the checkpoint).") { checkpoint, output };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var conversion = RealEsrganConverter.Convert(
                result.GetValue(checkpoint)!.FullName,
                result.GetValue(output)!.FullName,
                architecture: null,
                new Progress<string>(Console.Error.WriteLine));
            Console.WriteLine($"wrote {conversion.OnnxPath} ({conversion.OnnxBytes:N0} bytes): {conversion.TensorCount} tensors, " +
                $"{conversion.ParameterCount:N0} parameters, in {conversion.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }

    private static Command CreateInspect()
    {
        var model = new Argument<FileInfo>("model") { Description = "An ONNX model file." };
        var command = new Command("inspect", "Show a model's inputs, outputs, metadata and whether the engine can drive it.") { model };
        command.SetAction(result => CommandErrors.Run(() =>
        {
            var file = result.GetValue(model)!;
            if (!file.Exists)
            {
                throw new FileNotFoundException($"Model file '{file.FullName}' does not exist.");
            }
            Console.WriteLine(ModelInspection.Inspect(file.FullName).ToText());
            return 0;
        }));
        return command;
    }
}

using System.Text;
using CodeFormer.Engine.Runtime;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace CodeFormer.Engine.Tests.Runtime;

/// <summary>
/// A model file the product loads (--model, the cache, the worker's settings) may keep tensors in external files named by
/// a "location". One pointing outside the model's folder would make ONNX Runtime read a file the user did not name. ORT
/// 1.31 refuses such locations itself when the model is opened from a path (as every user-supplied model is); these tests
/// pin that, so an ORT upgrade that loosened it would fail here. The model is written byte by byte: y = x + w, w external.
/// </summary>
public sealed class OnnxExternalDataTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("../outside.bin", "escapes model directory")]
    [InlineData("{abs}", "Absolute path not allowed")]
    public void External_data_outside_the_model_folder_is_refused_by_onnx_runtime_before_it_is_read(string location, string expected)
    {
        using var folder = new TemporaryDirectory();
        string model = WriteModelBesideAnOutsideFile(folder, location);

        var error = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession(model));

        output.WriteLine(error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("../outside.bin", "which is outside the model's folder")]
    [InlineData("{abs}", "an absolute path")]
    [InlineData("missing.bin", "which does not exist")]
    public void External_data_outside_the_model_folder_or_missing_is_refused_naming_the_tensor_before_onnx_runtime_opens_it(string location, string expected)
    {
        using var folder = new TemporaryDirectory();
        string model = WriteModelBesideAnOutsideFile(folder, location);

        // models inspect, and every session the engine opens from a path, run the check first.
        var error = Assert.Throws<InvalidDataException>(() => ModelInspection.Inspect(model));

        output.WriteLine(error.Message);
        Assert.Contains(expected, error.Message);
        Assert.Contains("tensor 'w'", error.Message);
        Assert.DoesNotContain("tensorprotoutils", error.Message);
    }

    [Fact]
    public void A_truncated_model_is_refused_as_not_whole()
    {
        using var folder = new TemporaryDirectory();
        string model = folder.File("cut.onnx");
        byte[] whole = Model("w.bin");
        File.WriteAllBytes(model, whole[..(whole.Length - 20)]);

        var error = Assert.Throws<InvalidDataException>(() => OnnxExternalDataCheck.Check(model));

        Assert.Contains("not a whole ONNX file", error.Message);
    }

    [AssetFact("models/face_detection_yunet_2023mar.onnx")]
    public void A_real_model_without_external_data_passes_the_check()
    {
        OnnxExternalDataCheck.Check(TestAssets.PathOf("models/face_detection_yunet_2023mar.onnx"));
    }

    [Fact]
    public void External_data_beside_the_model_is_read()
    {
        using var folder = new TemporaryDirectory();
        File.WriteAllBytes(folder.File("w.bin"), BitConverter.GetBytes(2.5f));
        string model = folder.File("m.onnx");
        File.WriteAllBytes(model, Model("w.bin"));

        using var session = new InferenceSession(model);
        using var x = OrtValue.CreateTensorValueFromMemory(new float[] { 1f }, [1]);
        using var run = new RunOptions();
        using var results = session.Run(run, ["x"], [x], ["y"]);

        Assert.Equal(3.5f, results[0].GetTensorDataAsSpan<float>()[0]);
    }

    /// <summary>
    /// models/m.onnx whose weight lives at <paramref name="location"/> ("{abs}" for the absolute path of outside.bin, a
    /// float 2.5 written beside the models folder).
    /// </summary>
    private static string WriteModelBesideAnOutsideFile(TemporaryDirectory folder, string location)
    {
        string models = Path.Combine(folder.Path, "models");
        Directory.CreateDirectory(models);
        string outside = Path.Combine(folder.Path, "outside.bin");
        File.WriteAllBytes(outside, BitConverter.GetBytes(2.5f));
        string model = Path.Combine(models, "m.onnx");
        File.WriteAllBytes(model, Model(location.Replace("{abs}", outside, StringComparison.Ordinal)));
        return model;
    }

    private static byte[] Model(string location)
    {
        var tensorType = Msg(Varint(1, 1), Bytes(2, Msg(Bytes(1, Msg(Varint(1, 1))))));
        var type = Msg(Bytes(1, tensorType));
        var initializer = Msg(Varint(1, 1), Varint(2, 1), Bytes(8, "w"u8.ToArray()),
            Bytes(13, Msg(Bytes(1, "location"u8.ToArray()), Bytes(2, Encoding.UTF8.GetBytes(location)))),
            Bytes(13, Msg(Bytes(1, "length"u8.ToArray()), Bytes(2, "4"u8.ToArray()))), Varint(14, 1));
        var node = Msg(Bytes(1, "x"u8.ToArray()), Bytes(1, "w"u8.ToArray()), Bytes(2, "y"u8.ToArray()), Bytes(4, "Add"u8.ToArray()));
        var graph = Msg(Bytes(1, node), Bytes(2, "g"u8.ToArray()), Bytes(5, initializer),
            Bytes(11, Msg(Bytes(1, "x"u8.ToArray()), Bytes(2, type))), Bytes(12, Msg(Bytes(1, "y"u8.ToArray()), Bytes(2, type))));
        return Msg(Varint(1, 8), Bytes(7, graph), Bytes(8, Msg(Bytes(1, []), Varint(2, 17))));
    }

    private static byte[] Msg(params byte[][] fields) => fields.SelectMany(f => f).ToArray();

    private static byte[] Varint(int field, long value) => [.. V((ulong)(field << 3)), .. V((ulong)value)];

    private static byte[] Bytes(int field, byte[] value) => [.. V((ulong)((field << 3) | 2)), .. V((ulong)value.Length), .. value];

    private static byte[] V(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
        return [.. bytes];
    }
}

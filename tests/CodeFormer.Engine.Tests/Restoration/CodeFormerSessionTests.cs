using CodeFormer.Engine.Restoration;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;
using static CodeFormer.Engine.Tests.Restoration.FakeCodeFormer;

namespace CodeFormer.Engine.Tests.Restoration;

public sealed class CodeFormerSessionTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SessionOptions _options = new();

    public void Dispose()
    {
        _options.Dispose();
        _folder.Dispose();
    }

    private float[] Run(CodeFormerSession session, float[] input, int count, double fidelity)
    {
        var output = new float[input.Length];
        session.Restore(input, count, fidelity, output);
        return output;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"value {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void Facefusion_style_model_gets_the_weight_as_double()
    {
        using var session = CodeFormerSession.Open(_folder.Write("codeformer.onnx", Scaling()), _options);
        var input = TestModels.RandomValues(2 * FaceLength, seed: 1);

        var output = Run(session, input, 2, 0.7);

        AssertClose(Expected(input, 2, 1.7f), output);
        Assert.Equal("input", session.Contract.ImageInputName);
        Assert.Equal("weight", session.Contract.FidelityInputName);
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Double, session.Contract.FidelityElementType);
        Assert.True(session.Contract.HasDynamicBatch);
        Assert.Equal(Size, session.FaceSize);
    }

    [Theory]
    [InlineData("x", "w", OnnxElementType.Double, false)]
    [InlineData("input", "weight", OnnxElementType.Float, false)]
    [InlineData("input", "weight", OnnxElementType.Double, true)]
    [InlineData("image", "fidelity", OnnxElementType.Float, true)]
    public void Other_names_and_weight_types_are_driven(string image, string weight, OnnxElementType type, bool scalar)
    {
        using var session = CodeFormerSession.Open(_folder.Write("foreign.onnx", Scaling(image, weight, type, scalar)), _options);
        var input = TestModels.RandomValues(FaceLength, seed: 2);

        var output = Run(session, input, 1, 1.3);

        AssertClose(Expected(input, 1, 2.3f), output);
        Assert.Equal(image, session.Contract.ImageInputName);
        Assert.Equal(weight, session.Contract.FidelityInputName);
        Assert.Equal(scalar, session.Contract.FidelityIsScalar);
    }

    [Fact]
    public void Fixed_batch_one_model_runs_faces_one_at_a_time()
    {
        using var session = CodeFormerSession.Open(_folder.Write("b1.onnx", Scaling(batch: 1)), _options);
        var input = TestModels.RandomValues(3 * FaceLength, seed: 3);

        var output = Run(session, input, 3, 0.5);

        Assert.Equal(1, session.MaxBatch);
        Assert.Equal(1, session.Contract.FixedBatch);
        AssertClose(Expected(input, 3, 1.5f), output);
    }

    [Fact]
    public void Fixed_batch_four_model_pads_the_last_chunk()
    {
        using var session = CodeFormerSession.Open(_folder.Write("b4.onnx", Scaling(batch: 4)), _options);
        var input = TestModels.RandomValues(5 * FaceLength, seed: 4);

        var output = Run(session, input, 5, 0.25);

        Assert.Equal(4, session.MaxBatch);
        AssertClose(Expected(input, 5, 1.25f), output);
    }

    [Fact]
    public void Batch_of_five_faces_equals_faces_one_by_one()
    {
        using var session = CodeFormerSession.Open(_folder.Write("dyn.onnx", Scaling()), _options, maxBatch: 2);
        var input = TestModels.RandomValues(5 * FaceLength, seed: 5);

        var batched = Run(session, input, 5, 0.9);
        var single = new float[input.Length];
        for (int f = 0; f < 5; f++)
        {
            session.Restore(input.AsSpan(f * FaceLength, FaceLength), 1, 0.9, single.AsSpan(f * FaceLength, FaceLength));
        }

        Assert.Equal(single, batched);
        AssertClose(Expected(input, 5, 1.9f), batched);
    }

    [Fact]
    public void Model_without_weight_input_ignores_fidelity()
    {
        using var session = CodeFormerSession.Open(_folder.Write("naive.onnx", Scaling(weight: null)), _options);
        var input = TestModels.RandomValues(FaceLength, seed: 6);

        Assert.False(session.Contract.HasFidelityInput);
        AssertClose(Expected(input, 1, 3f), Run(session, input, 1, 0.0));
        AssertClose(Expected(input, 1, 3f), Run(session, input, 1, 1.0));
    }

    [Fact]
    public void Sibling_code_only_model_serves_fidelity_zero_and_opens_lazily()
    {
        string main = _folder.Write("codeformer.onnx", Scaling());
        string sibling = _folder.Write("codeformer.w0.onnx", Sevens());
        using var session = CodeFormerSession.Open(main, _options);
        var input = TestModels.RandomValues(2 * FaceLength, seed: 7);

        Assert.Equal(sibling, session.CodeOnlyModelPath);
        AssertClose(Expected(input, 2, 1.5f), Run(session, input, 2, 0.5));
        Assert.False(session.IsCodeOnlyLoaded);

        var codeOnly = Run(session, input, 2, 0.0);

        Assert.True(session.IsCodeOnlyLoaded);
        Assert.All(codeOnly, v => Assert.Equal(7f, v));
        // Any fidelity above zero goes back to the main model.
        AssertClose(Expected(input, 2, 1.01f), Run(session, input, 2, 0.01));
    }

    [Fact]
    public void Without_code_only_model_fidelity_zero_runs_the_main_model_with_weight_zero()
    {
        using var session = CodeFormerSession.Open(_folder.Write("alone.onnx", Scaling()), _options);
        var input = TestModels.RandomValues(FaceLength, seed: 8);

        Assert.Null(session.CodeOnlyModelPath);
        AssertClose(Expected(input, 1, 1f), Run(session, input, 1, 0.0));
    }

    [Fact]
    public void Explicit_code_only_path_is_used_and_must_exist()
    {
        string main = _folder.Write("main.onnx", Scaling());
        string codeOnly = _folder.Write("elsewhere.onnx", Sevens());
        using var session = CodeFormerSession.Open(main, _options, codeOnly);
        var input = TestModels.RandomValues(FaceLength, seed: 9);

        Assert.All(Run(session, input, 1, 0.0), v => Assert.Equal(7f, v));
        var missing = Assert.Throws<FileNotFoundException>(() => CodeFormerSession.Open(main, _options, Path.Combine(_folder.Path, "nope.onnx")));
        Assert.Contains("nope.onnx", missing.Message);
    }

    [Fact]
    public void Code_only_model_of_another_face_size_is_refused_on_first_use()
    {
        string main = _folder.Write("sized.onnx", Scaling());
        _folder.Write("sized.w0.onnx", Sevens(size: 16));
        using var session = CodeFormerSession.Open(main, _options);
        var input = TestModels.RandomValues(FaceLength, seed: 10);

        var error = Assert.Throws<CodeFormer.Engine.Runtime.ModelContractException>(() => Run(session, input, 1, 0.0));

        Assert.Contains("sized.w0.onnx", error.Message);
        Assert.Contains("16", error.Message);
    }

    [Fact]
    public void Failed_code_only_open_is_retried_on_the_next_call()
    {
        string main = _folder.Write("retry.onnx", Scaling());
        string sibling = _folder.Write("retry.w0.onnx", Sevens(size: 16));
        using var session = CodeFormerSession.Open(main, _options);
        var input = TestModels.RandomValues(FaceLength, seed: 13);
        Assert.Throws<CodeFormer.Engine.Runtime.ModelContractException>(() => Run(session, input, 1, 0.0));

        _folder.Write("retry.w0.onnx", Sevens());

        Assert.All(Run(session, input, 1, 0.0), v => Assert.Equal(7f, v));
        Assert.Equal(sibling, session.CodeOnlyModelPath);
    }

    [Fact]
    public void Span_lengths_must_match_the_face_count()
    {
        using var session = CodeFormerSession.Open(_folder.Write("spans.onnx", Scaling()), _options);
        var input = new float[2 * FaceLength];

        var shortInput = Assert.Throws<ArgumentException>(() => session.Restore(input.AsSpan(1), 2, 0.5, new float[2 * FaceLength]));
        var shortOutput = Assert.Throws<ArgumentException>(() => session.Restore(input, 2, 0.5, new float[FaceLength]));
        var wrongCount = Assert.Throws<ArgumentException>(() => session.Restore(input, 3, 0.5, new float[3 * FaceLength]));

        Assert.Equal("input", shortInput.ParamName);
        Assert.Equal("output", shortOutput.ParamName);
        Assert.Contains($"{3 * FaceLength}", wrongCount.Message);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.01)]
    [InlineData(2.01)]
    public void Fidelity_outside_zero_to_two_is_refused(double fidelity)
    {
        using var session = CodeFormerSession.Open(_folder.Write("range.onnx", Scaling()), _options);
        var input = new float[FaceLength];

        Assert.Throws<ArgumentOutOfRangeException>(() => session.Restore(input, 1, fidelity, new float[FaceLength]));
    }

    [Fact]
    public void Training_extrapolation_fidelity_up_to_two_is_accepted()
    {
        using var session = CodeFormerSession.Open(_folder.Write("extra.onnx", Scaling()), _options);
        var input = TestModels.RandomValues(FaceLength, seed: 11);

        AssertClose(Expected(input, 1, 3f), Run(session, input, 1, 2.0));
    }

    [Fact]
    public void Cancelled_token_stops_before_running()
    {
        using var session = CodeFormerSession.Open(_folder.Write("cancel.onnx", Scaling()), _options);
        var output = new float[FaceLength];
        output.AsSpan().Fill(-5f);

        Assert.Throws<OperationCanceledException>(() => session.Restore(new float[FaceLength], 1, 0.5, output, new CancellationToken(true)));
        Assert.All(output, v => Assert.Equal(-5f, v));
    }

    [Fact]
    public async Task Cancellation_during_a_long_run_terminates_it()
    {
        // The model needs seconds to minutes; RunOptions.Terminate ends it at the next node. Had cancellation
        // been checked only between chunks, this single-chunk call would complete and the assertion fail.
        using var session = CodeFormerSession.Open(_folder.Write("slow.onnx", Slow()), _options);
        using var cancellation = new CancellationTokenSource();
        var input = new float[FaceLength];
        var output = new float[FaceLength];

        var run = Task.Run(() => session.Restore(input, 1, 0.5, output, cancellation.Token));
        await Task.Delay(300);
        cancellation.Cancel();

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(cancellation.Token, error.CancellationToken);
    }

    [Fact]
    public void Disposed_session_refuses_work()
    {
        var session = CodeFormerSession.Open(_folder.Write("disposed.onnx", Scaling()), _options);
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Restore(new float[FaceLength], 1, 0.5, new float[FaceLength]));
    }

    [Fact]
    public void Concurrent_calls_give_the_same_results_as_sequential_ones()
    {
        using var session = CodeFormerSession.Open(_folder.Write("threads.onnx", Scaling()), _options);
        var inputs = Enumerable.Range(0, 8).Select(i => TestModels.RandomValues(FaceLength, seed: 100 + i)).ToArray();

        var results = new float[8][];
        Parallel.For(0, 8, i => results[i] = Run(session, inputs[i], 1, 0.1 * i));

        for (int i = 0; i < 8; i++)
        {
            AssertClose(Expected(inputs[i], 1, 1f + 0.1f * i), results[i]);
        }
    }

    [Fact]
    public void Restore_binds_caller_memory_instead_of_allocating_tensors()
    {
        // Four 128² faces are 786 KB in and 786 KB out; a call may allocate only small handles (names, shapes, OrtValue wrappers).
        const int size = 128, count = 4;
        using var session = CodeFormerSession.Open(_folder.Write("large.onnx", Scaling(size: size)), _options);
        var input = TestModels.RandomValues(count * 3 * size * size, seed: 12);
        var output = new float[input.Length];
        session.Restore(input, count, 0.5, output);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            session.Restore(input, count, 0.5, output);
        }
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;

        Assert.True(perCall < 8 * 1024, $"Restore allocated {perCall} bytes per call of {count} faces ({input.Length * 4} bytes of input).");
    }

    [Fact]
    public void Metadata_is_recorded_in_the_contract()
    {
        var graph = Scaling();
        graph.Metadata["codeformer.fuse_blocks"] = "32,64,128,256";
        graph.Metadata["license"] = "S-Lab License 1.0";
        using var session = CodeFormerSession.Open(_folder.Write("meta.onnx", graph), _options);

        Assert.Equal("32,64,128,256", session.Contract.FuseBlocks);
        Assert.Equal("S-Lab License 1.0", session.Contract.License);
    }

    [Theory]
    [InlineData("codeformer.onnx", "codeformer.w0.onnx")]
    [InlineData("models/cf-512.fp16.onnx", "models/cf-512.fp16.w0.onnx")]
    [InlineData("plain", "plain.w0.onnx")]
    public void Code_only_sibling_name_inserts_w0_before_the_extension(string model, string sibling)
        => Assert.Equal(sibling, CodeFormerSession.CodeOnlyPathFor(model));
}

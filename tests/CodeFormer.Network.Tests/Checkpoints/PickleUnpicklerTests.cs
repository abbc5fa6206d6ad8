using System.Numerics;
using System.Text;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Checkpoints;

public sealed class PickleUnpicklerTests
{
    // pickle.dumps(obj, protocol=N) from CPython 3.11, where shared = [7, 8] and
    // obj = {'a': [1, -1, 300, 70000, -70000, 2**40, 2**70, 1.5, 'x', 'é', (1,2), (1,2,3), (1,2,3,4), (), True, False, None],
    //        'shared1': shared, 'shared2': shared}
    private const string Protocol2 =
        "80027d71002858010000006171015d7102284b014affffffff4d2c014a701101004a90eefeff8a060000000000018a09000000000000000040473ff8" +
        "00000000000058010000007871035802000000c3a971044b014b028671054b014b024b03877106284b014b024b034b047471072988894e6558070000" +
        "007368617265643171085d7109284b074b0865580700000073686172656432710a6809752e";

    // The same object with protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE), plus b'y' after 'é'.
    private const string Protocol4 =
        "80049585000000000000007d94288c0161945d94284b014affffffff4d2c014a701101004a90eefeff8a060000000000018a09000000000000000040473ff8" +
        "0000000000008c0178948c02c3a994430179944b014b0286944b014b024b038794284b014b024b034b0474942988894e658c0773686172656431945d9428" +
        "4b074b08658c077368617265643294680a752e";

    [Theory]
    [InlineData(Protocol2, false)]
    [InlineData(Protocol4, true)]
    public void Reads_what_CPython_pickles_including_memo_references(string hex, bool hasBytes)
    {
        var root = Assert.IsType<PickleDict>(Load(Convert.FromHexString(hex)));

        Assert.Equal(["a", "shared1", "shared2"], root.Keys);
        Assert.True(root.TryGetValue("a", out var a));
        var items = Assert.IsType<List<object?>>(a);
        var expected = new List<object?> { 1L, -1L, 300L, 70000L, -70000L, 1L << 40, BigInteger.Pow(2, 70), 1.5, "x", "é" };
        if (hasBytes)
        {
            expected.Add("y"u8.ToArray());
        }
        expected.AddRange(new object?[] { new object?[] { 1L, 2L }, new object?[] { 1L, 2L, 3L }, new object?[] { 1L, 2L, 3L, 4L }, Array.Empty<object?>(), true, false, null });
        Assert.Equal(expected, items);
        root.TryGetValue("shared1", out var first);
        root.TryGetValue("shared2", out var second);
        Assert.Same(first, second);
        Assert.Equal(new List<object?> { 7L, 8L }, first);
    }

    [Fact]
    public void An_allowed_global_via_stack_global_builds_an_ordered_dict()
    {
        // pickle.dumps(OrderedDict(a=1), protocol=4)
        var bytes = Convert.FromHexString("80049529000000000000008c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c0161944b01732e");

        var dict = Assert.IsType<PickleDict>(Load(bytes));

        Assert.True(dict.TryGetValue("a", out var value));
        Assert.Equal(1L, value);
    }

    [Theory]
    [InlineData("cos\nsystem\n", "os.system")]
    [InlineData("cbuiltins\neval\n", "builtins.eval")]
    [InlineData("ctorch.storage\n_load_from_bytes\n", "torch.storage._load_from_bytes")]
    public void Refuses_any_global_outside_the_allow_list_by_name(string global, string name)
    {
        // GLOBAL, then ('ls',) and REDUCE: what a hostile pickle does to run a command.
        var bytes = Pickle("\x80\x02", global, "X\x02\x00\x00\x00ls\x85R.");

        var error = Assert.Throws<CheckpointFormatException>(() => Load(bytes));

        Assert.Contains($"'{name}'", error.Message);
        Assert.Contains("allow-list", error.Message);
        Assert.Contains("byte 2", error.Message);
    }

    [Fact]
    public void Refuses_a_hostile_global_inside_a_zip_checkpoint()
    {
        using var dir = new TemporaryDirectory();
        string path = dir.File("evil.pth");
        CheckpointFormatTests.WriteEntries(path, new Dictionary<string, byte[]>
        {
            ["archive/data.pkl"] = Pickle("\x80\x02", "cposix\nsystem\n", "X\x02\x00\x00\x00ls\x85R."),
            ["archive/version"] = "3\n"u8.ToArray(),
        });

        var error = Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));

        Assert.Contains("'posix.system'", error.Message);
    }

    [Fact]
    public void Calling_something_that_is_not_callable_is_refused()
    {
        // torch.FloatStorage is allowed as a value (inside persistent ids) but is not callable.
        var bytes = Pickle("\x80\x02", "ctorch\nFloatStorage\n", ")R.");

        var error = Assert.Throws<CheckpointFormatException>(() => Load(bytes));

        Assert.Contains("REDUCE on torch.FloatStorage", error.Message);
    }

    [Fact]
    public void An_unknown_opcode_is_named_with_its_offset()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Load([0x80, 0x02, 0x4b, 0x01, 0xff, 0x2e]));

        Assert.Contains("opcode 0xff", error.Message);
        Assert.Contains("byte 4", error.Message);
    }

    [Fact]
    public void A_pickle_without_stop_reports_truncation()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Load([0x80, 0x02, 0x5d, 0x4b, 0x01]));

        Assert.Contains("ends before its STOP", error.Message);
    }

    [Fact]
    public void A_length_prefix_past_the_end_fails_without_allocating_it()
    {
        // BINUNICODE claiming 2 GB of text.
        var error = Assert.Throws<CheckpointFormatException>(() => Load([0x80, 0x02, 0x58, 0x00, 0x00, 0x00, 0x80, 0x2e]));

        Assert.Contains("2147483648 bytes", error.Message);
    }

    [Fact]
    public void A_newer_protocol_is_refused()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Load([0x80, 0x06, 0x4e, 0x2e]));

        Assert.Contains("protocol 6", error.Message);
    }

    private static object? Load(byte[] bytes) =>
        new PickleUnpickler(new MemoryStream(bytes), TorchPickleGlobals.Resolve, id => id).Load();

    private static byte[] Pickle(params string[] parts) => Encoding.Latin1.GetBytes(string.Concat(parts));
}

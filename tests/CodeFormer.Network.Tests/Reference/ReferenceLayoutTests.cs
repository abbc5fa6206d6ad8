using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// The reference forward pass walks NetworkLayout, so the layout is checked here against the block
/// tables of the reference doc (A.2 encoder, A.3 generator), transcribed by hand.
/// </summary>
public sealed class ReferenceLayoutTests
{
    private static readonly NetworkLayout Full = new(CodeFormerArchitecture.Full);

    [Fact]
    public void Encoder_blocks_match_doc_table_A2()
    {
        string[] expected =
        [
            "Conv 512 3->64", "Res 512 64->64", "Res 512 64->64", "Down 512 64",
            "Res 256 64->128", "Res 256 128->128", "Down 256 128",
            "Res 128 128->128", "Res 128 128->128", "Down 128 128",
            "Res 64 128->256", "Res 64 256->256", "Down 64 256",
            "Res 32 256->256", "Res 32 256->256", "Down 32 256",
            "Res 16 256->512", "Attn 16 512", "Res 16 512->512", "Attn 16 512",
            "Res 16 512->512", "Attn 16 512", "Res 16 512->512", "GN 16 512", "Conv 16 512->256",
        ];

        Assert.Equal(expected, Full.EncoderBlocks.Select(Describe));
    }

    [Fact]
    public void Generator_blocks_match_doc_table_A3()
    {
        string[] expected =
        [
            "Conv 16 256->512", "Res 16 512->512", "Attn 16 512", "Res 16 512->512",
            "Res 16 512->512", "Attn 16 512", "Res 16 512->512", "Attn 16 512", "Up 16 512",
            "Res 32 512->256", "Res 32 256->256", "Up 32 256",
            "Res 64 256->256", "Res 64 256->256", "Up 64 256",
            "Res 128 256->128", "Res 128 128->128", "Up 128 128",
            "Res 256 128->128", "Res 256 128->128", "Up 256 128",
            "Res 512 128->64", "Res 512 64->64", "GN 512 64", "Conv 512 64->3",
        ];

        Assert.Equal(expected, Full.GeneratorBlocks.Select(Describe));
    }

    [Fact]
    public void Released_taps_and_fuses_sit_where_doc_A2_A3_put_them()
    {
        // Encoder taps after 14, 11, 8, 5 and generator fuses after 9, 12, 15, 18 for 32/64/128/256 (doc A.2, A.3),
        // with the channels the doc lists at each tap (32→256, 64→256, 128→128, 256→128).
        foreach (var (resolution, tap, fuse, channels) in new[] { (32, 14, 9, 256), (64, 11, 12, 256), (128, 8, 15, 128), (256, 5, 18, 128) })
        {
            Assert.Equal(tap, Full.EncoderTapAfterBlock[resolution]);
            Assert.Equal(fuse, Full.GeneratorFuseAfterBlock[resolution]);
            Assert.Equal(channels, ((ResBlockSpec)Full.EncoderBlocks[tap]).OutChannels);
            Assert.Equal(channels, ((ResBlockSpec)Full.GeneratorBlocks[fuse]).OutChannels);
        }
    }

    private static string Describe(BlockSpec block) => block switch
    {
        ConvSpec c => $"Conv {c.Resolution} {c.InChannels}->{c.OutChannels}",
        ResBlockSpec r => $"Res {r.Resolution} {r.InChannels}->{r.OutChannels}",
        AttentionSpec a => $"Attn {a.Resolution} {a.Channels}",
        DownsampleSpec d => $"Down {d.Resolution} {d.Channels}",
        UpsampleSpec u => $"Up {u.Resolution} {u.Channels}",
        GroupNormSpec g => $"GN {g.Resolution} {g.Channels}",
        _ => block.ToString(),
    };
}

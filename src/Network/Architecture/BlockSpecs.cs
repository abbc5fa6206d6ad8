namespace CodeFormer.Network.Architecture;

/// <summary>One entry of <c>encoder.blocks</c> or <c>generator.blocks</c>, with its position and channels.</summary>
public abstract record BlockSpec(int Index, int Resolution);

/// <summary>3×3 convolution, stride 1, padding 1 (the first and last block of encoder and generator).</summary>
public sealed record ConvSpec(int Index, int Resolution, int InChannels, int OutChannels) : BlockSpec(Index, Resolution);

/// <summary>GN → swish → conv3 → GN → swish → conv3, plus a 1×1 <c>conv_out</c> skip when channels change.</summary>
public sealed record ResBlockSpec(int Index, int Resolution, int InChannels, int OutChannels) : BlockSpec(Index, Resolution)
{
    public bool HasSkipConv => InChannels != OutChannels;
}

/// <summary>Single-head spatial self-attention with 1×1 q, k, v, proj_out convs and a residual.</summary>
public sealed record AttentionSpec(int Index, int Resolution, int Channels) : BlockSpec(Index, Resolution);

/// <summary>Pad right/bottom by one, then 3×3 stride-2 convolution without padding.</summary>
public sealed record DownsampleSpec(int Index, int Resolution, int Channels) : BlockSpec(Index, Resolution);

/// <summary>Nearest-neighbour ×2, then 3×3 convolution with padding 1.</summary>
public sealed record UpsampleSpec(int Index, int Resolution, int Channels) : BlockSpec(Index, Resolution);

/// <summary>GroupNorm(32, C) with no activation after it (the last norm before the output conv).</summary>
public sealed record GroupNormSpec(int Index, int Resolution, int Channels) : BlockSpec(Index, Resolution);

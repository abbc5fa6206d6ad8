using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.Weights;

/// <summary>
/// Deterministic pseudo-random weights for a layout. Each tensor draws from its own stream, keyed by
/// seed and parameter name, so a tensor's values do not depend on which other tensors exist: the w = 0
/// graph and the full graph built from the same seed share every weight they both have.
/// Scales follow PyTorch's default initialisation (uniform ±1/√fan_in) so activations stay finite
/// through 25 blocks; norms start near 1.
/// </summary>
public static class RandomWeights
{
    public static WeightSet Create(ParameterLayout layout, ulong seed)
    {
        var set = new WeightSet();
        foreach (var spec in layout.Parameters)
        {
            set.Add(spec.Name, CreateTensor(spec, seed));
        }
        return set;
    }

    public static Tensor CreateTensor(ParameterSpec spec, ulong seed)
    {
        var data = new float[spec.ElementCount];
        var rng = new SplitMix64(seed ^ StableHash(spec.Name));
        switch (spec.Kind)
        {
            case ParameterKind.NormScale:
                for (int i = 0; i < data.Length; i++) data[i] = 1f + 0.1f * rng.NextSigned();
                break;
            case ParameterKind.NormShift:
                Fill(data, rng, 0.1f);
                break;
            case ParameterKind.Embedding:
                // Codebook rows must stay distinguishable after AdaIN; position embeddings small like a trained model's.
                Fill(data, rng, spec.Name == "position_emb" ? 0.1f : 1f);
                break;
            case ParameterKind.Bias:
                Fill(data, rng, 0.05f);
                break;
            default:
                long fanIn = spec.ElementCount / spec.Shape[0];
                Fill(data, rng, (float)(1.0 / Math.Sqrt(Math.Max(1, fanIn))));
                break;
        }
        return new Tensor(spec.Shape, data);
    }

    private static void Fill(float[] data, SplitMix64 rng, float scale)
    {
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = scale * rng.NextSigned();
        }
    }

    /// <summary>FNV-1a: stable across processes, unlike string.GetHashCode.</summary>
    private static ulong StableHash(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }

    private struct SplitMix64(ulong state)
    {
        private ulong _state = state;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [-1, 1).</summary>
        public float NextSigned() => (float)((Next() >> 40) * (1.0 / (1UL << 24)) * 2.0 - 1.0);
    }
}

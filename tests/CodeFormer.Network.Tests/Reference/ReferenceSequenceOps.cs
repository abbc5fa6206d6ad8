using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// Plain-loop ops of the transformer half of CodeFormer (reference doc A.4) on one sequence at a time,
/// stored row-major as [tokens, features]. Sums are accumulated in double.
/// </summary>
internal static class ReferenceSequenceOps
{
    /// <summary>nn.Linear: y = x·Wᵀ + b with W [out, in].</summary>
    public static float[] Linear(float[] x, int rows, Tensor weight, Tensor? bias)
    {
        int outDim = weight.Shape[0], inDim = weight.Shape[1];
        if (x.Length != rows * inDim)
        {
            throw new ArgumentException($"Linear expects {rows}×{inDim} inputs, got {x.Length} values.");
        }
        var y = new float[rows * outDim];
        Parallel.For(0, rows, r =>
        {
            for (int o = 0; o < outDim; o++)
            {
                double sum = bias is null ? 0 : bias.Data[o];
                for (int i = 0; i < inDim; i++) sum += (double)x[r * inDim + i] * weight.Data[o * inDim + i];
                y[r * outDim + o] = (float)sum;
            }
        });
        return y;
    }

    /// <summary>nn.LayerNorm over the last dimension, biased variance.</summary>
    public static float[] LayerNorm(float[] x, int rows, Tensor gamma, Tensor beta, double epsilon)
    {
        int dim = gamma.Shape[0];
        var y = new float[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0;
            for (int i = 0; i < dim; i++) mean += x[r * dim + i];
            mean /= dim;
            double variance = 0;
            for (int i = 0; i < dim; i++)
            {
                double d = x[r * dim + i] - mean;
                variance += d * d;
            }
            double invStd = 1.0 / Math.Sqrt(variance / dim + epsilon);
            for (int i = 0; i < dim; i++)
            {
                y[r * dim + i] = (float)((x[r * dim + i] - mean) * invStd * gamma.Data[i] + beta.Data[i]);
            }
        }
        return y;
    }

    public static float[] Add(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Cannot add {a.Length} and {b.Length} values.");
        var y = new float[a.Length];
        for (int i = 0; i < y.Length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /// <summary>Exact GELU (nn.GELU default / F.gelu in TransformerSALayer): x·½·(1 + erf(x/√2)).</summary>
    public static float[] Gelu(float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (float)(x[i] * 0.5 * (1.0 + Erf(x[i] / Math.Sqrt(2.0))));
        return y;
    }

    /// <summary>
    /// erf in double (.NET has none): Maclaurin series below 3, where cancellation still leaves ~1e-13,
    /// and the Laplace continued fraction for erfc above, where the series would lose every digit.
    /// </summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        double result;
        if (a < 3.0)
        {
            double term = a, sum = a, x2 = a * a;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            result = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double t = a;
            for (int n = 80; n >= 1; n--) t = a + n / 2.0 / t;
            result = 1.0 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / t;
        }
        return x < 0 ? -result : result;
    }

    /// <summary>
    /// nn.MultiheadAttention(batch_first=False) for one sequence with query = key = <paramref name="queryKey"/>
    /// and value = <paramref name="value"/>. The packed in_proj_weight [3D, D] holds the q rows, then k, then v;
    /// each head takes a contiguous slice of D/heads features; logits scaled by head_dim^-0.5, softmax over keys.
    /// </summary>
    public static float[] MultiHeadSelfAttention(float[] queryKey, float[] value, int tokens, int heads,
        Tensor inProjWeight, Tensor inProjBias, Tensor outProjWeight, Tensor outProjBias)
    {
        int dim = inProjWeight.Shape[1];
        if (inProjWeight.Shape[0] != 3 * dim || dim % heads != 0)
        {
            throw new ArgumentException($"in_proj_weight ({string.Join(",", inProjWeight.Shape)}) does not pack q,k,v for {heads} heads.");
        }
        var q = Project(queryKey, tokens, inProjWeight, inProjBias, 0, dim);
        var k = Project(queryKey, tokens, inProjWeight, inProjBias, 1, dim);
        var v = Project(value, tokens, inProjWeight, inProjBias, 2, dim);
        int headDim = dim / heads;
        double scale = 1.0 / Math.Sqrt(headDim);
        var attended = new float[tokens * dim];
        Parallel.For(0, heads * tokens, job =>
        {
            int h = job / tokens, query = job % tokens, offset = h * headDim;
            var weights = new double[tokens];
            double max = double.NegativeInfinity;
            for (int key = 0; key < tokens; key++)
            {
                double dot = 0;
                for (int i = 0; i < headDim; i++) dot += q[query * dim + offset + i] * k[key * dim + offset + i];
                weights[key] = dot * scale;
                max = Math.Max(max, weights[key]);
            }
            double total = 0;
            for (int key = 0; key < tokens; key++)
            {
                weights[key] = Math.Exp(weights[key] - max);
                total += weights[key];
            }
            for (int i = 0; i < headDim; i++)
            {
                double sum = 0;
                for (int key = 0; key < tokens; key++) sum += weights[key] * v[key * dim + offset + i];
                attended[query * dim + offset + i] = (float)(sum / total);
            }
        });
        return Linear(attended, tokens, outProjWeight, outProjBias);
    }

    /// <summary>Rows [part·D, (part+1)·D) of the packed projection, kept in double for the attention sums.</summary>
    private static double[] Project(float[] x, int tokens, Tensor packedWeight, Tensor packedBias, int part, int dim)
    {
        var y = new double[tokens * dim];
        for (int t = 0; t < tokens; t++)
        {
            for (int o = 0; o < dim; o++)
            {
                int row = part * dim + o;
                double sum = packedBias.Data[row];
                for (int i = 0; i < dim; i++) sum += (double)x[t * dim + i] * packedWeight.Data[row * dim + i];
                y[t * dim + o] = sum;
            }
        }
        return y;
    }
}

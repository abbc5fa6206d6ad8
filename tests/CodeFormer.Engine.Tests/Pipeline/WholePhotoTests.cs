using System.Numerics;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Testing;
using Xunit.Abstractions;
using static CodeFormer.Engine.Tests.Pipeline.PhotoAssertions;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>Real photos through the whole pipeline: faces found and aligned, sizes, formats, greyscale and alpha.</summary>
[Collection(PipelineCollection.Name)]
public sealed class WholePhotoTests(PipelineFixture fixture, ITestOutputHelper output)
{
    private RestorationResult SolvayWithIdentity() => fixture.Cached("solvay-identity", () =>
        fixture.Identity.Restore(fixture.Photo(Solvay), new RestorationOptions { Upscale = 1 }));

    [AssetFact(YuNet, Solvay)]
    public void Solvay_reports_every_face_the_detector_finds()
    {
        var result = SolvayWithIdentity();
        var own = fixture.Detector.Detect(Decode(fixture.Photo(Solvay)));
        output.WriteLine($"engine {result.Faces.Count} faces, detector {own.Count}");

        Assert.Equal(own.Count, result.Faces.Count);
        Assert.True(result.Faces.Count >= 27, $"only {result.Faces.Count} of the 29 Solvay faces were found");
        Assert.Equal(own.Select(f => f.Score), result.Faces.Select(f => f.Score));
        Assert.Equal(Enumerable.Range(0, result.Faces.Count), result.Faces.Select(f => f.Index));
    }

    [AssetFact(YuNet, Solvay)]
    public void Every_reported_affine_maps_its_landmarks_onto_the_ffhq_template()
    {
        var template = FfhqTemplate.ForFaceSize(512);
        double worst = 0, sum = 0, worstFace = 0;
        int count = 0;
        foreach (var face in SolvayWithIdentity().Faces)
        {
            double faceSum = 0;
            var m = face.Affine;
            Assert.Equal(6, m.Length);
            Assert.Equal(5, face.Landmarks.Length);
            for (int k = 0; k < 5; k++)
            {
                double x = m[0] * face.Landmarks[k][0] + m[1] * face.Landmarks[k][1] + m[2];
                double y = m[3] * face.Landmarks[k][0] + m[4] * face.Landmarks[k][1] + m[5];
                double distance = Math.Sqrt(Math.Pow(x - template[k].X, 2) + Math.Pow(y - template[k].Y, 2));
                worst = Math.Max(worst, distance);
                sum += distance;
                faceSum += distance;
                count++;
            }
            worstFace = Math.Max(worstFace, faceSum / 5);
            // A similarity (4 degrees of freedom): equal scales, no shear, and no reflection.
            Assert.Equal(m[0], m[4], 9);
            Assert.Equal(m[1], -m[3], 9);
            Assert.True(m[0] > 0, $"face {face.Index} is mapped upside down: {string.Join(", ", m)}");
            // Each landmark lies inside its own box.
            foreach (var p in face.Landmarks)
            {
                Assert.InRange(p[0], face.Box[0] - 1, face.Box[2] + 1);
                Assert.InRange(p[1], face.Box[1] - 1, face.Box[3] + 1);
            }
        }
        output.WriteLine($"landmark → template distance in the 512² face: mean {sum / count:F2} px, worst face mean {worstFace:F2} px, worst {worst:F2} px");
        // The template is 126 px between the eyes. Solvay's faces are 20–30 px wide, so one pixel of landmark noise
        // is about 20 px here, and a similarity cannot follow a turned head's mouth corners: measured mean 9.3 px,
        // worst face 22 px, worst single landmark 50 px (a mouth corner). Any face misaligned as a whole (wrong
        // landmark order, the affine of another face, a flipped axis) is off by ~100 px or more.
        Assert.InRange(sum / count, 0, 12);
        Assert.InRange(worstFace, 0, 30);
        Assert.InRange(worst, 0, 64);
    }

    [AssetFact(YuNet, Solvay)]
    public void Greyscale_solvay_stays_greyscale_and_is_not_black_with_a_random_network()
    {
        var input = Decode(fixture.Photo(Solvay));
        var result = BatchingTests.SolvayWithTiny(fixture, batchSize: 4);
        var restored = Decode(result.Image);

        Assert.True(result.Greyscale);
        Assert.Equal((2 * input.Width, 2 * input.Height), (restored.Width, restored.Height));
        for (int i = 0; i < restored.Pixels.Length; i += 3)
        {
            if (restored.Pixels[i] != restored.Pixels[i + 1] || restored.Pixels[i] != restored.Pixels[i + 2])
            {
                Assert.Fail($"pixel {i / 3} is ({restored.Pixels[i]}, {restored.Pixels[i + 1]}, {restored.Pixels[i + 2]}), not grey");
            }
        }
        double before = MeanLevel(input), after = MeanLevel(restored);
        output.WriteLine($"mean level: input {before:F2}, output {after:F2}");
        // Random faces take on each input crop's mean and spread (AdaIN), so the photo's level barely moves (#222: black).
        Assert.InRange(after, before - 3, before + 3);
    }

    [AssetFact(YuNet, SolvayJpeg)]
    public void A_grey_jpeg_stays_grey_keeps_its_level_and_its_channel_layout()
    {
        var photo = fixture.Photo(SolvayJpeg);
        var result = fixture.TinyBatch4.Restore(photo, new RestorationOptions { Upscale = 1 });
        var restored = Decode(result.Image);

        Assert.True(result.Greyscale);
        Assert.Equal(ImageFileFormat.Jpeg, result.Format);
        // This file is a three-channel JPEG of a grey photo: it is written back with three channels (only single-channel
        // sources are written single-channel), and every pixel stays grey.
        Assert.Equal(new ImageDecoder().Inspect(photo).SourceIsGreyscaleFormat, new ImageDecoder().Inspect(result.Image).SourceIsGreyscaleFormat);
        float worst = 0;
        for (int i = 0; i < restored.Pixels.Length; i += 3)
        {
            worst = Math.Max(worst, Math.Max(Math.Abs(restored.Pixels[i] - restored.Pixels[i + 1]), Math.Abs(restored.Pixels[i + 1] - restored.Pixels[i + 2])));
        }
        Assert.True(result.Faces.Count >= 27, $"{result.Faces.Count} faces");
        double before = MeanLevel(Decode(photo)), after = MeanLevel(restored);
        output.WriteLine($"{result.Faces.Count} faces; largest channel difference {worst}; mean level {before:F2} → {after:F2}");
        Assert.InRange(worst, 0, 1); // measured 0: grey pixels have zero chroma, which JPEG keeps exactly
        Assert.InRange(after, before - 3, before + 3);
    }

    [AssetFact(YuNet, HopperTiny)]
    public void A_small_photo_is_enlarged_to_a_512_short_side_before_the_upscale()
    {
        var result = fixture.Identity.Restore(fixture.Photo(HopperTiny), new RestorationOptions { Upscale = 2 });

        Assert.Equal((1024, 1024), (result.Width, result.Height));
        Assert.Equal((128, 128), (result.InputWidth, result.InputHeight));
        var face = Assert.Single(result.Faces);
        output.WriteLine($"box {string.Join(", ", face.Box.Select(v => v.ToString("F1")))}");
    }

    [AssetFact(YuNet, HopperTiny)]
    public void Faces_of_a_small_photo_are_reported_in_its_own_pixels()
    {
        var result = fixture.Identity.Restore(fixture.Photo(HopperTiny), new RestorationOptions { Upscale = 1 });
        var face = Assert.Single(result.Faces);
        output.WriteLine($"box {string.Join(", ", face.Box.Select(v => v.ToString("F1")))}");

        // The photo is 128², so is its face: detection and alignment ran on the 512² working copy, the report must not.
        Assert.All(face.Box, v => Assert.InRange(v, -1, 129));
        Assert.InRange(face.Box[2] - face.Box[0], 30, 60);
        // The affine still maps the (reported) landmarks onto the template: it maps photo pixels to the face.
        var template = FfhqTemplate.ForFaceSize(512);
        var m = face.Affine;
        for (int k = 0; k < 5; k++)
        {
            double x = m[0] * face.Landmarks[k][0] + m[1] * face.Landmarks[k][1] + m[2];
            double y = m[3] * face.Landmarks[k][0] + m[4] * face.Landmarks[k][1] + m[5];
            Assert.InRange(Math.Sqrt(Math.Pow(x - template[k].X, 2) + Math.Pow(y - template[k].Y, 2)), 0, 40);
        }
    }

    [AssetFact(YuNet)]
    public void A_short_side_that_does_not_divide_512_is_still_enlarged_to_exactly_512()
    {
        // 512/98·98 is 511.99999999999994 in doubles: truncating gives 511 where OpenCV's cvRound gives 512.
        var photo = SyntheticPhoto(98, 150, alpha: false);
        var result = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1 });

        Assert.Equal((512, 784), (result.Width, result.Height));
        Assert.Empty(result.Faces);
    }

    [AssetFact(YuNet, Astronaut)]
    public void A_varying_alpha_plane_comes_back_unchanged()
    {
        var photo = WithAlphaGradient(fixture.Photo(Astronaut));
        var result = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1 });

        Assert.Single(result.Faces);
        Assert.Equal(Decode(photo).Alpha, Decode(result.Image).Alpha);
    }

    [AssetFact(YuNet, Astronaut)]
    public void A_16_bit_png_comes_back_as_16_bit_with_its_fine_levels_kept_away_from_the_face()
    {
        var photo = As16Bit(fixture.Photo(Astronaut));
        var result = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1 });

        var face = Assert.Single(result.Faces);
        Assert.Equal(16, new ImageDecoder().Inspect(result.Image).BitDepth);
        using var before = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb48>(photo);
        using var after = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb48>(result.Image);
        var footprint = PasteFootprint(face, 512, 1, 48, 512, 512);
        for (int y = 0; y < 512; y += 3)
        {
            for (int x = 0; x < 512; x += 3)
            {
                if (!Contains(footprint, x, y))
                {
                    Assert.Equal(before[x, y], after[x, y]);
                }
            }
        }
    }

    [AssetFact(YuNet, Astronaut)]
    public void Draw_box_frames_each_face_in_green_and_nothing_else()
    {
        var plain = Decode(fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1 }).Image);
        var result = fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1, DrawBox = true });
        var boxed = Decode(result.Image);

        var face = Assert.Single(result.Faces);
        var footprint = PasteFootprint(face, 512, 1, 48, 512, 512);
        AssertIdenticalOutside(plain, boxed, [footprint]);
        int green = 0;
        for (int i = 0; i < boxed.Pixels.Length; i += 3)
        {
            if (boxed.Pixels[i] == 0 && boxed.Pixels[i + 1] == 255 && boxed.Pixels[i + 2] == 0)
            {
                green++;
                Assert.True(Contains(footprint, i / 3 % 512, i / 3 / 512), $"green pixel {i / 3} outside the face");
            }
        }
        output.WriteLine($"{green} pure green pixels");
        // A frame around a ~170 px wide crop footprint, some pixels thick: hundreds of pixels, far fewer than the crop.
        Assert.InRange(green, 200, footprint.Width * footprint.Height / 4);
    }

    /// <summary>The photo as a 16-bit RGB PNG whose levels are not multiples of 257 (so 8-bit output would lose them).</summary>
    private static byte[] As16Bit(byte[] png)
    {
        using var source = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(png);
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb48>(source.Width, source.Height);
        for (int y = 0; y < source.Height; y++)
        {
            for (int x = 0; x < source.Width; x++)
            {
                var p = source[x, y];
                ushort Level(byte v) => (ushort)Math.Min(65535, v * 257 + (x * 7 + y * 13) % 200);
                image[x, y] = new(Level(p.R), Level(p.G), Level(p.B));
            }
        }
        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream, new SixLabors.ImageSharp.Formats.Png.PngEncoder
        {
            BitDepth = SixLabors.ImageSharp.Formats.Png.PngBitDepth.Bit16,
            ColorType = SixLabors.ImageSharp.Formats.Png.PngColorType.Rgb,
        });
        return stream.ToArray();
    }

    /// <summary>A smooth colour pattern without faces, as PNG.</summary>
    private static byte[] SyntheticPhoto(int width, int height, bool alpha)
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgba32>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = new((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x + y) % 256), alpha ? (byte)(255 - x % 200) : (byte)255);
            }
        }
        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream);
        return stream.ToArray();
    }

    /// <summary>The photo with an alpha plane running from 55 to 255 across it, as PNG.</summary>
    private static byte[] WithAlphaGradient(byte[] png)
    {
        using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgba32>(png);
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var p = image[x, y];
                p.A = (byte)(55 + 200 * x / image.Width);
                image[x, y] = p;
            }
        }
        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, stream);
        return stream.ToArray();
    }

    [AssetFact(YuNet, Bryan)]
    public void Rgba_png_keeps_its_alpha()
    {
        var photo = fixture.Photo(Bryan);
        var result = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1 });

        Assert.Equal(ImageFileFormat.Png, result.Format);
        Assert.Equal((512, 512), (result.Width, result.Height));
        var inputAlpha = Decode(photo).Alpha;
        Assert.NotNull(inputAlpha);
        Assert.True(new ImageDecoder().Inspect(result.Image).HasAlpha, "the restored PNG has no alpha channel");
        var outputAlpha = Decode(result.Image).Alpha;
        Assert.NotNull(outputAlpha);
        // The alpha plane is enlarged with the photo (115 → 512, bilinear) and never touched by the faces.
        var expectedAlpha = ImageResizer.ResizePlaneBilinear(inputAlpha, 115, 115, 512, 512);
        for (int i = 0; i < outputAlpha.Length; i++)
        {
            Assert.True(Math.Abs(expectedAlpha[i] - outputAlpha[i]) <= 0.5f, $"alpha {i}: expected {expectedAlpha[i]}, got {outputAlpha[i]}");
        }
        output.WriteLine($"alpha range {outputAlpha.Min()}–{outputAlpha.Max()}, faces {result.Faces.Count}");
    }

    [AssetFact(YuNet, HopperJpeg)]
    public void A_jpeg_gives_a_jpeg_unless_another_format_is_asked_for()
    {
        var photo = fixture.Photo(HopperJpeg);
        var asInput = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1 });
        var asPng = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1, OutputFormat = ImageFileFormat.Png });
        var asWebp = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1, OutputFormat = ImageFileFormat.Webp });

        Assert.Equal(ImageFileFormat.Jpeg, asInput.Format);
        Assert.Equal([0xFF, 0xD8, 0xFF], asInput.Image[..3]);
        Assert.Equal(ImageFileFormat.Png, asPng.Format);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], asPng.Image[..4]);
        Assert.Equal(ImageFileFormat.Webp, asWebp.Format);
        Assert.Equal("WEBP"u8.ToArray(), asWebp.Image[8..12]);
        foreach (var result in new[] { asInput, asPng, asWebp })
        {
            Assert.Single(result.Faces);
            var decoded = Decode(result.Image);
            Assert.Equal((517, 606), (decoded.Width, decoded.Height));
        }
    }

    [AssetFact(YuNet, Astronaut)]
    public void A_webp_gives_a_webp()
    {
        using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(fixture.Photo(Astronaut));
        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsWebp(image, stream, new SixLabors.ImageSharp.Formats.Webp.WebpEncoder
        {
            FileFormat = SixLabors.ImageSharp.Formats.Webp.WebpFileFormatType.Lossy,
            Quality = 95,
        });
        var photo = stream.ToArray();

        var result = fixture.Identity.Restore(photo, new RestorationOptions { Upscale = 1 });

        Assert.Equal(ImageFileFormat.Webp, result.Format);
        Assert.Equal("WEBP"u8.ToArray(), result.Image[8..12]);
        Assert.Single(result.Faces);
        // WebP output is lossy (the encoder's choice, for speed): the identity round trip is close, not exact.
        double error = MeanAbsDifference(Decode(photo), Decode(result.Image), 0, 0, 512, 512);
        Assert.InRange(error, 0, 4);
    }

    [AssetFact(YuNet, HopperJpeg)]
    public void An_exif_rotated_jpeg_is_restored_upright()
    {
        // Stored sideways with EXIF orientation 6 ("rotate 90° clockwise to display"), as phone cameras write it.
        using var upright = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(fixture.Photo(HopperJpeg));
        using var sideways = SixLabors.ImageSharp.Processing.ProcessingExtensions.Clone(upright,
            x => SixLabors.ImageSharp.Processing.RotateExtensions.Rotate(x, SixLabors.ImageSharp.Processing.RotateMode.Rotate270));
        sideways.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
        sideways.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, (ushort)6);
        using var stream = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsJpeg(sideways, stream);
        Assert.Equal((606, 517), (sideways.Width, sideways.Height));

        var result = fixture.Identity.Restore(stream.ToArray(), new RestorationOptions { Upscale = 1 });

        Assert.Equal((517, 606), (result.Width, result.Height));
        var face = Assert.Single(result.Faces);
        // Upright: the eyes are side by side above the mouth.
        Assert.True(face.Landmarks[0][0] < face.Landmarks[1][0] && face.Landmarks[0][1] < face.Landmarks[3][1],
            $"landmarks {string.Join(" ", face.Landmarks.Select(p => $"({p[0]:F0},{p[1]:F0})"))} are not those of an upright face");
    }

    [AssetFact(YuNet, Solvay)]
    public void Only_center_face_keeps_the_face_nearest_the_middle()
    {
        var all = SolvayWithIdentity().Faces;
        var result = fixture.Identity.Restore(fixture.Photo(Solvay), new RestorationOptions { Upscale = 1, OnlyCenterFace = true });

        var face = Assert.Single(result.Faces);
        var middle = new Vector2(1280 / 2f, 926 / 2f);
        var nearest = all.MinBy(f => Vector2.DistanceSquared(f.Center, middle))!;
        Assert.Equal(nearest.Box, face.Box);
    }

    [AssetFact(YuNet, Solvay)]
    public void Max_faces_keeps_the_highest_scores()
    {
        var all = SolvayWithIdentity().Faces;
        var result = fixture.Identity.Restore(fixture.Photo(Solvay), new RestorationOptions { Upscale = 1, MaxFaces = 5 });

        Assert.Equal(5, result.Faces.Count);
        Assert.Equal(all.Select(f => f.Score).OrderDescending().Take(5), result.Faces.Select(f => f.Score).OrderDescending());
    }

    [AssetFact(YuNet, Astronaut)]
    public void Face_images_and_the_comparison_come_back_when_asked_for()
    {
        var result = fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 2, IncludeFaceImages = true, IncludeComparison = true });

        var images = Assert.Single(result.FaceImages);
        var cropped = Decode(images.CroppedPng);
        var restored = Decode(images.RestoredPng);
        Assert.Equal((512, 512), (cropped.Width, cropped.Height));
        // Identity network: the restored face is the crop, up to float rounding in the [-1, 1] round trip that can
        // tip a value sitting on a half level to the next whole one.
        for (int i = 0; i < cropped.Pixels.Length; i++)
        {
            Assert.True(Math.Abs(cropped.Pixels[i] - restored.Pixels[i]) <= 1, $"value {i}: crop {cropped.Pixels[i]}, restored {restored.Pixels[i]}");
        }
        Assert.NotNull(result.Comparison);
        var comparison = Decode(result.Comparison);
        Assert.Equal((2048, 1024), (comparison.Width, comparison.Height));
    }
}

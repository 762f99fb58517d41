namespace Retour.Tests.Support;

/// <summary>The real provider payloads in ../shared/realdata, read in place (they must not be copied into the repo).</summary>
public static class RealData
{
    public static string Path(params string[] parts)
    {
        var root = Environment.GetEnvironmentVariable("RETOUR_REALDATA")
                   ?? new[] { System.IO.Path.Combine(Repo.Root, "..", "shared", "realdata"), "/work/shared/realdata" }.FirstOrDefault(Directory.Exists)
                   ?? System.IO.Path.Combine(Repo.Root, "..", "shared", "realdata");
        var path = System.IO.Path.Combine([root, .. parts]);
        if (!File.Exists(path)) throw new FileNotFoundException($"Real sample missing: {path}. Set RETOUR_REALDATA to the realdata folder.");
        return path;
    }
}

public static class Repo
{
    /// <summary>The folder holding Retour.slnx, found from the test binaries upwards.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Retour.slnx"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Retour.slnx).");
        }
    }
}

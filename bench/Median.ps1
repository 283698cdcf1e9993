# The median of a set of numbers (the mean of the two middle ones for an even count), for the bench scripts that
# dot-source it. (A few older scripts define Med, the upper middle one: another statistic, kept where it is used.)
function Get-Median([double[]] $Values) {
    $s = @($Values | Sort-Object)
    if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

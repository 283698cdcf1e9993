# The one place that knows how to start this same pwsh as a child process. Dot-sourced by build.ps1,
# tests/pester/Common.ps1 and bench/Invoke-Bench.ps1.
# Under the dotnet local tool the process is dotnet itself, so pwsh.dll is run with 'dotnet exec': in-process,
# no extra muxer child, so the pid a caller holds (and may kill -9) is pwsh itself.
$script:ChildPwsh = (Get-Process -Id $PID).Path
$script:ChildPwshPrefix = @(if ((Split-Path $script:ChildPwsh -Leaf) -like 'dotnet*') { 'exec', (Join-Path $PSHOME 'pwsh.dll') })

# The full argument list for Start-Process or '&': the prefix, then the caller's arguments.
function Get-ChildPwshArgument {
    param([string[]] $ArgumentList)
    @($script:ChildPwshPrefix) + @($ArgumentList)
}

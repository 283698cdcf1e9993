<#
.SYNOPSIS
    Writes en-US/DyadPorts.dll-Help.xml from src/DyadPorts/help/DyadPorts.Help.psd1 and the cmdlets' own metadata.
.DESCRIPTION
    Texts come from the psd1; syntax, types, positions and pipeline input come from the built cmdlets, so the
    help cannot drift from the code. A parameter with no text is written with an empty description, and the
    Pester help tests fail on it.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Source,
    [Parameter(Mandatory)] [string] $Destination
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
$help = Import-PowerShellDataFile $Source
$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
$ns = @{
    '' = 'http://msh'; maml = 'http://schemas.microsoft.com/maml/2004/10'; command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'; dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
New-Item -ItemType Directory -Force -Path (Split-Path $Destination) | Out-Null
$w = [System.Xml.XmlWriter]::Create($Destination, $settings)

function Para([string] $text) { $w.WriteStartElement('maml', 'para', $ns.maml); $w.WriteString($text); $w.WriteEndElement() }
function Description([string] $text) { $w.WriteStartElement('maml', 'description', $ns.maml); Para $text; $w.WriteEndElement() }
function ParamText($command, [string] $name) {
    $own = $help[$command.Name].Parameters
    if ($own -and $own.ContainsKey($name)) { return $own[$name] }
    if ($help.CommonParameters.ContainsKey($name)) { return $help.CommonParameters[$name] }
    Write-Warning "No help text for $($command.Name) -$name"
    ''
}
function WriteParameter($command, $parameter, $set) {
    $attr = if ($set) { $set } else { $parameter.ParameterSets.Values | Select-Object -First 1 }
    $pipeline = @(if ($attr.ValueFromPipeline) { 'ByValue' }; if ($attr.ValueFromPipelineByPropertyName) { 'ByPropertyName' })
    $w.WriteStartElement('command', 'parameter', $ns.command)
    $w.WriteAttributeString('required', "$($attr.IsMandatory)".ToLowerInvariant())
    $w.WriteAttributeString('globbing', "$($parameter.Attributes.TypeId.Name -contains 'SupportsWildcardsAttribute')".ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', $(if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }))
    $w.WriteAttributeString('position', $(if ($attr.Position -ge 0) { "$($attr.Position)" } else { 'named' }))
    $w.WriteElementString('maml', 'name', $ns.maml, $parameter.Name)
    Description (ParamText $command $parameter.Name)
    $type = $parameter.ParameterType
    if ($type -ne [System.Management.Automation.SwitchParameter]) {
        $w.WriteStartElement('command', 'parameterValue', $ns.command)
        $w.WriteAttributeString('required', 'true')
        $w.WriteString($type.Name)
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('maml', 'name', $ns.maml, $type.FullName); $w.WriteEndElement()
    $w.WriteEndElement()
}

$w.WriteStartDocument()
$w.WriteStartElement('helpItems', $ns[''])
$w.WriteAttributeString('schema', 'maml')
foreach ($command in Get-Command -Module DyadPorts | Sort-Object Name) {
    $text = $help[$command.Name]
    if (-not $text) { throw "No help source for $($command.Name) in $Source" }
    $w.WriteStartElement('command', 'command', $ns.command)
    $w.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $w.WriteAttributeString('xmlns', 'command', $null, $ns.command)
    $w.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $w.WriteStartElement('command', 'details', $ns.command)
    $w.WriteElementString('command', 'name', $ns.command, $command.Name)
    $w.WriteElementString('command', 'verb', $ns.command, $command.Verb)
    $w.WriteElementString('command', 'noun', $ns.command, $command.Noun)
    Description $text.Synopsis
    $w.WriteEndElement()
    Description $text.Description

    $w.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $command.ParameterSets) {
        $w.WriteStartElement('command', 'syntaxItem', $ns.command)
        $w.WriteElementString('maml', 'name', $ns.maml, $command.Name)
        foreach ($p in $set.Parameters | Where-Object Name -notin $common) {
            WriteParameter $command $command.Parameters[$p.Name] $command.Parameters[$p.Name].ParameterSets[$set.Name]
        }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($p in $command.Parameters.Values | Where-Object Name -notin $common | Sort-Object Name) { WriteParameter $command $p $null }
    $w.WriteEndElement()

    foreach ($kind in 'inputTypes', 'returnValues') {
        $entries = if ($kind -eq 'inputTypes') { $text.Inputs } else { $text.Outputs }
        $w.WriteStartElement('command', $kind, $ns.command)
        foreach ($entry in $entries) {
            $w.WriteStartElement('command', $(if ($kind -eq 'inputTypes') { 'inputType' } else { 'returnValue' }), $ns.command)
            $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('maml', 'name', $ns.maml, $entry.Type); $w.WriteEndElement()
            Description $entry.Description
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }

    $w.WriteStartElement('command', 'examples', $ns.command)
    $n = 0
    foreach ($example in $text.Examples) {
        $n++
        $w.WriteStartElement('command', 'example', $ns.command)
        $w.WriteElementString('maml', 'title', $ns.maml, "-------------------------- Example $n --------------------------")
        $w.WriteElementString('dev', 'code', $ns.dev, $example.Code)
        $w.WriteStartElement('dev', 'remarks', $ns.dev); Para $example.Remarks; $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'relatedLinks', $ns.command)
    $w.WriteStartElement('maml', 'navigationLink', $ns.maml); $w.WriteElementString('maml', 'linkText', $ns.maml, 'about_DyadPorts'); $w.WriteEndElement()
    $w.WriteEndElement()
    $w.WriteEndElement()
}
$w.WriteEndElement()
$w.WriteEndDocument()
$w.Dispose()

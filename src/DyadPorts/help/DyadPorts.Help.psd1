# The source of the cmdlets' help. tools/New-MamlHelp.ps1 turns it into en-US/DyadPorts.dll-Help.xml at Build,
# taking syntax, types and pipeline input from the cmdlets themselves; tests fail when a parameter has no text here.
@{
    CommonParameters = @{
        Engine         = 'The engine to check against and run previews in: Auto (default), Docker, Podman or Process. Auto follows -EngineEndpoint, DOCKER_HOST / CONTAINER_HOST, CONTAINERIZATION_ENGINE and CONTAINERIZATION_ENABLED, then the first default socket that answers, and falls back to Process with a warning. Process checks host sockets and allocations only.'
        EngineEndpoint = 'The engine API endpoint, for example unix:///run/podman/podman.sock or unix:///run/docker.sock. It wins over the environment. If it does not answer, the command fails with EngineUnreachable.'
        PortRange      = 'The inclusive range to allocate from, as FIRST-LAST (for example 32100-32200). Default: DYAD_PORT_RANGE, else 32100-32200. A malformed or inverted range, or a port outside 1-65535, is an InvalidPortRange error.'
        WhatIf         = 'Shows what would happen without changing the state file or the engine.'
        Confirm        = 'Asks for confirmation before changing anything.'
    }

    'Request-DyadPort' = @{
        Synopsis    = 'Allocates a host port to an app, validated against the engine, the host and the other apps.'
        Description = 'Request-DyadPort is the seed''s allocatePort(appId, forceNew) done right. If the app already has a port that is still free on the system, it keeps it. If that port is now held by a container, a host process or another app, it writes a warning naming the holder and moves the app to the first free port of the range. A port published by the app''s own running container (created by DyadPorts for it in this state: labels dyadports.managed, dyadports.app-id and dyadports.state) stays the app''s; a container merely named dyad-app-<AppId> does not count. Each call lists the engine''s containers once (running, stopped and created), probes host sockets for the candidate ports only, and reads and writes the state file under a cross-process lock. When no port is free it writes a non-terminating PortRangeExhausted error for that AppId and goes on with the next piped AppId.'
        Parameters  = @{
            AppId = 'The app to allocate for: 1-63 characters, a letter or digit followed by letters, digits, ''_'', ''.'' or ''-''. Accepted from the pipeline by value and by property name (AppId, or its alias Name, which folders from Get-ChildItem -Directory have).'
            Force = 'Chooses again from the start of the range instead of keeping a current port that is still free (the seed''s forceNew). A port the app''s own running container publishes is still kept. On a fleet state, it also moves an app recorded on another machine''s local engine or processes to this host, with a warning: without -Force that is a non-terminating RecordOnOtherMachine error naming the machine, and nothing changes. Whatever runs the app on that machine is left alone and no longer tracked.'
        }
        Examples    = @(
            @{ Code = 'Request-DyadPort 57 -Verbose'; Remarks = 'Allocates a port to app 57: the first port of the range that no container, host process or other app holds. -Verbose names each port passed over and its holder (32100 held by app 56''s container, say); a warning comes only when an app loses a port it had.' }
            @{ Code = '''56'', ''57'', ''58'' | Request-DyadPort -PortRange 40000-40100'; Remarks = 'Allocates ports to three apps from another range through the pipeline.' }
            @{ Code = 'Get-DyadPortAllocation | Where-Object Status -eq Conflict | Request-DyadPort'; Remarks = 'Moves every app whose port was taken by something else to a free port.' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'An AppId, or any object with an AppId property such as DyadPorts.PortAllocation.' })
        Outputs     = @(@{ Type = 'DyadPorts.PortAllocation'; Description = 'The app''s allocation: AppId, Port, Status, ContainerName, Engine, AllocatedAt.' })
    }

    'Test-DyadPortAvailable' = @{
        Synopsis    = 'Tells whether host ports are free of containers, host listeners and allocations.'
        Description = 'Test-DyadPortAvailable returns $true for a port that no container publishes or is configured to publish (running, stopped or created, any address), no host process listens on (IPv4 or IPv6, wildcard or specific address), and no app has allocated. Ports are compared as integers: a container on 3210 does not hold 32100. Piped ports are gathered and checked against one engine snapshot. With -Detailed it returns a DyadPorts.PortStatus naming the holder. A port outside 1-65535 is a non-terminating InvalidPort error; the other ports are still checked.'
        Parameters  = @{
            Port     = 'The TCP ports to check. Accepted from the pipeline by value and by property name Port.'
            Detailed = 'Returns a DyadPorts.PortStatus (Port, Available, HeldBy, Source) instead of a bool.'
        }
        Examples    = @(
            @{ Code = 'if (Test-DyadPortAvailable 32100) { ''free'' }'; Remarks = 'Uses the bool result in a condition.' }
            @{ Code = '32100..32110 | Test-DyadPortAvailable -Detailed | Where-Object { -not $_.Available }'; Remarks = 'Lists the held ports of a block and who holds each, with one engine call.' }
            @{ Code = 'Get-DyadPortAllocation | Test-DyadPortAvailable -Detailed'; Remarks = 'Binds Port by property name from allocations.' }
        )
        Inputs      = @(@{ Type = 'System.Int32'; Description = 'A port, or any object with a Port property.' })
        Outputs     = @(
            @{ Type = 'System.Boolean'; Description = 'By default, one bool per valid port.' }
            @{ Type = 'DyadPorts.PortStatus'; Description = 'With -Detailed: Port, Available, HeldBy and Source (Container, Host or Allocation).' }
        )
    }

    'Get-DyadPortAllocation' = @{
        Synopsis    = 'Lists port allocations, each reconciled with what runs now.'
        Description = 'Get-DyadPortAllocation reads the state file and the engine once, and reports each allocation with a Status: Active (the app''s container or process runs on the port), Reserved (allocated, no preview yet, nothing else holds it), Stale (the app''s preview is gone or stopped) Conflict (something else now holds the port; HeldBy says what) or Unknown (the allocation''s engine host could not be asked, with one non-terminating error for that host, or it is another machine''s local engine or processes, which HeldBy names). An AppId without wildcards that has no allocation is a non-terminating AppIdNotFound error. A corrupt state file is rebuilt from this state''s DyadPorts-labelled containers, then backed up, with a StateFileCorrupt warning; a file of a newer version is refused (StateFileNewerVersion) and left as it is.'
        Parameters  = @{
            AppId = 'The apps to show; wildcards are allowed. All apps when omitted; none when a pipeline feeds the command and brings no AppId (a filter that matched nothing). Accepted from the pipeline by value and by property name (AppId, or its alias Name, which folders from Get-ChildItem -Directory have).'
        }
        Examples    = @(
            @{ Code = 'Get-DyadPortAllocation'; Remarks = 'Lists every allocation with its reconciled status.' }
            @{ Code = 'Get-DyadPortAllocation | Where-Object Status -eq Stale | Remove-DyadPortAllocation'; Remarks = 'Releases the ports of apps whose previews are gone.' }
            @{ Code = 'Get-DyadPortAllocation dyad-5*'; Remarks = 'Shows the apps whose ids start with dyad-5.' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'AppIds or patterns, or objects with an AppId property.' })
        Outputs     = @(@{ Type = 'DyadPorts.PortAllocation'; Description = 'One per matching allocation, ordered by port.' })
    }

    'Remove-DyadPortAllocation' = @{
        Synopsis    = 'Releases apps'' port allocations.'
        Description = 'Remove-DyadPortAllocation deletes apps'' allocations from the state file, under its lock, so their ports can be given to other apps. It does not touch containers: Stop-DyadPreview stops or removes those. It needs no engine. An AppId with no allocation is a non-terminating AppIdNotFound error (ObjectNotFound). On a fleet state, an allocation of another machine''s local engine or processes is that machine''s: it is refused with a non-terminating RecordOnOtherMachine error naming the machine, unless -Force.'
        Parameters  = @{
            AppId    = 'The apps whose allocations to release: any AppId the state holds, also one that fails the rule for new apps or is empty (a record another tool or a hand edit wrote), so that it never holds its port for good. Accepted from the pipeline by value and by property name (AppId, or its alias Name, which folders from Get-ChildItem -Directory have), so allocations pipe straight in.'
            PassThru = 'Writes each released allocation, with Status Released, to the pipeline.'
            Force    = 'Releases an allocation of another machine''s local engine or processes (a fleet state) too, with a warning. Without -Force that is a non-terminating RecordOnOtherMachine error naming the machine, and the allocation stays. Whatever runs the app on that machine is left alone and no longer tracked.'
        }
        Examples    = @(
            @{ Code = 'Remove-DyadPortAllocation 57 -PassThru'; Remarks = 'Releases app 57''s port and shows what was released.' }
            @{ Code = 'Get-DyadPortAllocation | Where-Object Status -eq Stale | Remove-DyadPortAllocation -WhatIf'; Remarks = 'Shows which stale allocations would be released, changing nothing.' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'AppIds, or objects with an AppId property such as DyadPorts.PortAllocation.' })
        Outputs     = @(@{ Type = 'DyadPorts.PortAllocation'; Description = 'With -PassThru, each released allocation. Otherwise nothing.' })
    }

    'Start-DyadPreview' = @{
        Synopsis    = 'Starts an app''s preview on a port that is really free, and waits until it answers HTTP.'
        Description = 'Start-DyadPreview runs the seed''s preview flow without its races. Starts and stops of one AppId are serialised by a per-app lock across runspaces and processes, so a second start waits and returns the first one''s preview. If the app''s own container (dyad-app-<AppId>, created by DyadPorts in this state) runs, it is returned with the port the engine reports, and nothing is started. If it exists but is stopped (or runs unhealthy), it is removed; the app keeps its allocation. Then the port is reserved as Request-DyadPort does without -Force: the app keeps the port it holds while that port is free on the system (a browser tab pointed at it keeps working across restarts, and Stop-DyadPreview -KeepAllocation keeps its promise), and moves, with a warning naming the holder, only when something else took it; an app without a port gets the first free one. The history records a Moved event with the holder, never -Force, which only Request-DyadPort -Force records. The container is then created and started through the engine API: -p P:P, PORT and VITE_PORT set to P, the app folder mounted at /app as the working directory, labels dyadports.app-id, dyadports.managed=true, dyadports.state=<state id> and dyadports.claim=<the claim of its reservation>, and CONTAINER_CPU_LIMIT / CONTAINER_MEMORY_LIMIT applied. If the engine refuses the port because something took it after the check, the port is marked and the next one tried, up to -MaxRetries times (PortConflictRetriesExhausted after that); nothing is left behind. With -AutoKillPort (or AUTO_KILL_PORT=true), orphans that hold a wanted port are removed: DyadPorts containers of this state, created, exited or dead, whose app has no allocation on that port. A stopped preview whose app kept its allocation is passed over, and unlabelled containers, other states'' containers and host processes are never touched. A container name that belongs to anything but the app''s own container is a ContainerNameInUse error. On a fleet state, an app recorded on another machine''s local engine or processes is not started, reused or moved here: a non-terminating RecordOnOtherMachine error names the machine (move it first with Request-DyadPort -Force or Remove-DyadPortAllocation -Force). The command then waits for an HTTP answer on port P (of this machine, or of the engine''s host for a remote engine) with a progress bar; a preview that exits first fails with PreviewExitedEarly and its last log lines. With the process engine the command runs as a host child process with PORT set.'
        Parameters  = @{
            AppId        = 'The app to preview. Accepted from the pipeline by value and by property name (AppId, or its alias Name, which folders from Get-ChildItem -Directory have).'
            Path         = 'The app folder: mounted at /app in a container, the working directory of a process. Default: the current location. For a remote engine (tcp://host), it is an absolute path on the engine''s host (/srv/apps/web), passed as given and not checked here: a relative one is refused (PreviewPathNotAbsolute), since this machine''s current location means nothing there. Without -Path, this machine''s current location is sent as it is. The Url then names that host.'
            Image        = 'The container image. Default: DYAD_PREVIEW_IMAGE, else node:22-alpine. A missing image is pulled with a progress bar; if that fails, ImageNotFound stops the command (the image is every piped app''s) and says how to build or import one.'
            Command      = 'The preview command. One string runs through sh -c; several strings run as a program and its arguments. The port is in $PORT. Default: npm install && npm run dev -- --host 0.0.0.0 --port "$PORT".'
            MaxRetries   = 'How many ports to try when the engine refuses one that was taken after the check. Default 5.'
            AutoKillPort = 'Removes orphans that hold a wanted port: DyadPorts containers of this state, created, exited or dead, whose app has no allocation on that port. Default: AUTO_KILL_PORT. Never removes a stopped preview that kept its allocation, unlabelled or other states'' containers, never kills host processes.'
            TimeoutSec   = 'How long to wait for the preview to answer HTTP, in seconds. Default 60. On timeout the preview is removed and the app''s allocation is put back as it was before the start: released when the start made it, kept when the app had it already.'
            NoWait       = 'Returns as soon as the preview is started, without waiting for it to answer.'
        }
        Examples    = @(
            @{ Code = 'Start-DyadPreview 57 -Path ./apps/57'; Remarks = 'Starts app 57''s dev server in node:22-alpine on the first free port and returns its Url once it answers.' }
            @{ Code = '''56'', ''57'', ''58'' | Start-DyadPreview -Path ./site -Image busybox:local -Command ''httpd -f -p "$PORT" -h /app'' | Select-Object AppId, Url'; Remarks = 'Starts three static previews from the pipeline and lists their URLs.' }
            @{ Code = '$env:CONTAINERIZATION_ENABLED = ''false''; Start-DyadPreview 57 -Command ''npm run dev -- --port "$PORT"'''; Remarks = 'Runs the preview as a host process, as dyad desktop does.' }
            @{ Code = 'Get-ChildItem ~/apps -Directory | Start-DyadPreview'; Remarks = 'Starts a preview for every app folder: a folder''s Name becomes the AppId (alias Name) and its FullName the Path (alias FullName).' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'AppIds, or objects with AppId or Name (and Path or FullName) properties, such as folders from Get-ChildItem -Directory.' })
        Outputs     = @(@{ Type = 'DyadPorts.Preview'; Description = 'AppId, Port, Url, ContainerName, ContainerId, ProcessId, Engine, Image, State, StartedAt and the ports lost to races.' })
    }

    'Stop-DyadPreview' = @{
        Synopsis    = 'Stops an app''s preview and releases its port.'
        Description = 'Stop-DyadPreview stops the app''s DyadPorts container (or removes it with -Remove) or its preview process, then releases its allocation unless -KeepAllocation is given. Only the app''s own containers (labelled dyadports.managed=true and dyadports.state of this state) are touched, and a preview process is killed, with its process tree, only when its pid and recorded start time match; otherwise a warning says it was left alone. A tree that cannot all be killed (another user''s process in it, say) is a non-terminating PreviewStopFailed, and the app keeps its allocation. An app with neither a preview nor an allocation is a non-terminating AppIdNotFound error.'
        Parameters  = @{
            AppId          = 'The apps whose previews to stop. Accepted from the pipeline by value and by property name (AppId, or its alias Name, which folders from Get-ChildItem -Directory have). With -IdleFor it is optional: the reaper looks at every app when it is omitted, and at none when a pipeline feeds the command and brings no AppId (a filter that matched nothing).'
            Remove         = 'Removes the container instead of only stopping it.'
            KeepAllocation = 'Keeps the port allocated to the app; Get-DyadPortAllocation then shows it as Stale, and the next Start-DyadPreview of the app starts on that same port while it is free.'
            PassThru       = 'Writes what was stopped to the pipeline.'
            IdleFor        = 'The idle reaper: stops only the previews that accepted no connection for at least this long (for example 00:10:00, dyad''s own rule). Each run takes one sample per preview and stores it in the state: for a container, the connections it accepted (the TCP PassiveOpens counter of its own network namespace) and whether one is open to its port, so an attached client such as a browser tab''s quiet HMR socket keeps it busy; where those cannot be read (a remote engine, host networking, a VM''s pid) its transmitted bytes, where a rise of at most 128 bytes counts as no use; for a process preview, the TCP connections to its port. A preview is idle when nothing changed since a sample at least this old, so the first run only records (see about_DyadPorts, THE IDLE REAPER). Run it every minute from cron, a systemd timer or Task Scheduler. With -WhatIf it stops nothing and records nothing. A preview being started (its app lock is held) is skipped; unlabelled containers and processes DyadPorts did not start are never looked at.'
        }
        Examples    = @(
            @{ Code = 'Stop-DyadPreview 57 -Remove'; Remarks = 'Removes app 57''s container and releases its port.' }
            @{ Code = 'Stop-DyadPreview -IdleFor 00:10:00 -Remove -PassThru'; Remarks = 'The idle reaper: removes the previews that served nothing for 10 minutes and releases their ports. Run it every minute, for example from cron: * * * * * pwsh -NoProfile -c "Stop-DyadPreview -IdleFor 00:10:00 -Remove"' }
            @{ Code = 'Get-DyadPortAllocation | Where-Object Status -eq Active | Stop-DyadPreview -KeepAllocation'; Remarks = 'Stops every running preview but keeps their ports reserved.' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'AppIds, or objects with an AppId property.' })
        Outputs     = @(@{ Type = 'DyadPorts.Preview'; Description = 'With -PassThru, what was stopped. State: removed (-Remove), exited (a running container or process stopped now), stopped (a container that was not running), unknown (the state names a process without its start time, which is left alone). Otherwise nothing.' })
    }

    'Get-DyadPortHistory' = @{
        Synopsis    = 'Reads the journal of DyadPorts'' decisions.'
        Description = 'Every decision DyadPorts makes is journaled as one JSON line beside the state file (state.json.history.jsonl, 0600, rotated at 4 MB with one old file kept): an app Allocated, Reused, Moved (with the holder that forced the move and the previous port), Released; a RaceLost at start; an OrphanRemoved by AUTO_KILL_PORT; a PreviewStarted, PreviewReplaced, PreviewStopped or PreviewFailed; a StateRecovered. Get-DyadPortHistory emits them oldest first as DyadPorts.PortEvent objects. A line torn by a crash is skipped with a warning.'
        Parameters  = @{
            AppId = 'Only events of these apps. Wildcards are allowed. All apps when omitted; none when a pipeline feeds the command and brings no AppId (a filter that matched nothing). Accepted from the pipeline by value and by property name.'
            Since = 'Only events at or after this time.'
            Kind  = 'Only events of these kinds: Allocated, Reused, Moved, Released, RaceLost, OrphanRemoved, PreviewStarted, PreviewReplaced, PreviewStopped, PreviewFailed, StateRecovered.'
            Last  = 'Only the newest N events, still written oldest first.'
        }
        Examples    = @(
            @{ Code = 'Get-DyadPortHistory 57'; Remarks = 'What happened to app 57''s port, and when.' }
            @{ Code = 'Get-DyadPortHistory -Kind Moved, RaceLost -Since (Get-Date).AddHours(-1)'; Remarks = 'The moves and lost races of the last hour, with the holders that caused them.' }
            @{ Code = 'Get-DyadPortAllocation | Where-Object Status -eq Conflict | Get-DyadPortHistory -Last 5'; Remarks = 'The latest events of the apps whose ports are now taken by something else.' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'AppIds, or objects with an AppId property.' })
        Outputs     = @(@{ Type = 'DyadPorts.PortEvent'; Description = 'Time, Kind, AppId, Port, Endpoint, PreviousPort, HeldBy, ContainerId, ProcessId and Reason.' })
    }

    'Get-DyadPortUsage' = @{
        Synopsis    = 'Shows the port range at a glance.'
        Description = 'Get-DyadPortUsage takes one engine snapshot and returns one DyadPorts.PortUsage: the range, the free count, the ports held by containers, allocations and host processes (decided exactly as Test-DyadPortAvailable decides), the allocations by status, and the moves and lost races of the last 24 hours with the apps moved most. Its default view draws the range as a map, one cell per port: C container, A allocation, H host process, . free, coloured from $PSStyle where the host shows colour (pwsh drops colour under NO_COLOR and when output is redirected; the letters carry the meaning then), wrapped to the console width, with a legend.'
        Parameters  = @{ PortRange = 'The range to show, as FIRST-LAST. Default: DYAD_PORT_RANGE, else 32100-32200.' }
        Examples    = @(
            @{ Code = 'Get-DyadPortUsage'; Remarks = 'Draws the default range as a map of its holders.' }
            @{ Code = '(Get-DyadPortUsage).Free'; Remarks = 'How many ports are left, for a script.' }
            @{ Code = 'Get-DyadPortUsage 32100-32200 | Select-Object Free, HeldByContainer, HeldByHost, MovesLast24Hours'; Remarks = 'The counts without the map, for a report.' }
        )
        Inputs      = @(@{ Type = 'None'; Description = 'Nothing is taken from the pipeline.' })
        Outputs     = @(@{ Type = 'DyadPorts.PortUsage'; Description = 'Range, Total, Free, HeldByContainer, HeldByAllocation, HeldByHost, AllocationsByStatus, MovesLast24Hours, RacesLostLast24Hours, TopMovers, EventCounts and Map.' })
    }

    'Start-DyadPortAgent' = @{
        Synopsis    = 'Keeps a live view of the engine and lends it to one-shot commands, so that they need not list every container.'
        Description = 'Start-DyadPortAgent runs the DyadPorts agent in this process until it is stopped: Ctrl+C, or SIGTERM while it serves (a service manager''s stop; the command then ends normally, so a pwsh that runs only the agent exits 0), or, less cleanly, its process killed by the ProcessId it writes. It follows the engine''s events as a warm session does (DYAD_PORTS_ENGINE_FEED) and listens on a unix socket: -Path, else DYAD_PORTS_AGENT, else $XDG_RUNTIME_DIR/dyadports/agent.sock (without XDG_RUNTIME_DIR, as in cron, /run/user/<uid>/dyadports/agent.sock when that folder is the user''s, else /tmp/dyadports-<uid>/agent.sock). A command in another process of the same user whose session has no live view of its own (a one-shot pwsh -c, a cron job) asks the agent first and reads its view instead of listing every container, which on a host with a thousand containers costs a podman list most of a second. The view is as fresh as a warm session''s: a change made by another client shows within 1 s, and the containers the asking process changed itself in the last 12.25 s (up to 64; past that it lists) are inspected again for its answer. An agent that does not answer within 1 s, whose view is not live, that answers 8 askers already, that runs as another user, or that runs in another network or mount namespace than the asker is not used: the command lists, as without an agent, and says so under -Verbose; one that failed it (silent, malformed, another user''s) is left alone for 30 s. The socket is 0600 in a folder of the user''s own (made 0700); each connection''s user is checked both ways (SO_PEERCRED). The agent holds a lock on <socket>.lock for its life: a second agent at the same path is AgentSocketInUse, and a socket left by a killed agent is replaced; anything at the path that is not the user''s socket is left alone (AgentSocketUnsafe). It writes one DyadPorts.AgentStatus once it listens and its view answers (or after 30 s), then serves until stopped, and removes its socket as it ends. Its views catch up with the engine at every heartbeat (about a second), since any process may read them next. Linux only (AgentUnsupported elsewhere); the engine must be a container engine (AgentNeedsEngine). With DYAD_PORTS_ENGINE_FEED=off or DYAD_PORTS_AGENT=off a command never asks an agent.'
        Parameters  = @{ Path = 'The socket to listen at. Default: DYAD_PORTS_AGENT, else the per-user default above. Commands find the agent through DYAD_PORTS_AGENT, so give them the same path.' }
        Examples    = @(
            @{ Code = 'Start-DyadPortAgent -Engine Podman'; Remarks = 'Runs the agent in this shell for the default podman socket, until Ctrl+C. One-shot commands of this user ask it from then on.' }
            @{ Code = 'Start-DyadPortAgent -EngineEndpoint unix:///run/podman/podman.sock | ForEach-Object { Set-Content -Path ~/.cache/dyadports-agent.pid -Value $_.ProcessId }'; Remarks = 'What a service''s script (pwsh -NoProfile -c, a systemd user unit''s ExecStart, say) runs: the agent writes its status once its view answers, the script keeps its process id, and the agent serves on until stopped.' }
            @{ Code = '$env:DYAD_PORTS_AGENT = ''/run/user/1000/dyadports/agent.sock''; Request-DyadPort 57 -Verbose'; Remarks = 'A one-shot request through the agent: -Verbose says the containers came from the agent''s view, or why it listed instead.' }
        )
        Inputs      = @(@{ Type = 'None'; Description = 'Nothing is taken from the pipeline.' })
        Outputs     = @(@{ Type = 'DyadPorts.AgentStatus'; Description = 'Once it listens: Path, ProcessId, Endpoint, Engine and Live (whether its view answered by then).' })
    }

    'Get-DyadPortAgent' = @{
        Synopsis    = 'Reports the DyadPorts agent at a socket: its process, what it answered, and which engine views it keeps live.'
        Description = 'Get-DyadPortAgent asks the agent that Start-DyadPortAgent runs for its status over its socket (-Path, else DYAD_PORTS_AGENT, else the per-user default, which is where commands look) and writes one DyadPorts.AgentInfo: its ProcessId, when it began to listen (StartedAt), the requests it answered with its view (Answered) and those it told to list (Declined: a view not live or behind, too many endpoints, changes, askers or connections), the connections of other users it refused unread (Refused) and those that ended before a whole request and answer (Failed), the containers it inspected again because an asker changed them (ChangesInspected), and each endpoint whose view it keeps (Endpoints: Endpoint, Engine, Live, Lists, EngineCalls), Live saying whether that view answers now. It asks no engine and reads no state, and the exchange is bounded by 1 s. Each socket is its own input: nothing at the path, or a socket nobody listens at (a killed agent''s), is AgentNotRunning (ObjectNotFound); a socket of a process that runs as another user, or that this user may not connect to, is AgentNotOwned (PermissionDenied), and it is not asked; no status within 1 s, or an answer this module does not read (an agent of DyadPorts 0.6.3 or older reports none), is AgentNotAnswering; each is non-terminating, its target the path. With DYAD_PORTS_AGENT off and no -Path there is no socket to ask (AgentSocketInvalid). Linux only (AgentUnsupported elsewhere).'
        Parameters  = @{ Path = 'The sockets to ask. Default: DYAD_PORTS_AGENT, else the per-user default. Accepted from the pipeline, also by property name (Path, which Start-DyadPortAgent''s AgentStatus has).' }
        Examples    = @(
            @{ Code = 'Get-DyadPortAgent'; Remarks = 'The agent one-shot commands of this user ask: its process, its counters and its views.' }
            @{ Code = 'Get-DyadPortAgent -ErrorAction SilentlyContinue | Where-Object { $_.Endpoints.Live -contains $true }'; Remarks = 'In a health check: the agent, when one runs and at least one of its views answers; nothing otherwise.' }
            @{ Code = '(Get-DyadPortAgent).Endpoints | Format-Table Endpoint, Engine, Live, Lists, EngineCalls'; Remarks = 'The endpoints it follows, and how often each view had to list its engine again (once per reconnection).' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'Socket paths, also as the Path property of objects (Start-DyadPortAgent''s AgentStatus).' })
        Outputs     = @(@{ Type = 'DyadPorts.AgentInfo'; Description = 'Path, ProcessId, StartedAt, Answered, Declined, Refused, Failed, ChangesInspected and Endpoints (DyadPorts.AgentEndpointInfo: Endpoint, Engine, Live, Lists, EngineCalls).' })
    }

    'Copy-DyadPortState' = @{
        Synopsis    = 'Copies a state''s allocations and previews into another state, keeping their ports and ownership.'
        Description = 'Copy-DyadPortState copies every allocation of the -Source state, with its port and its preview record (container id, process id and start, image, engine and endpoint) and the idle reaper''s sample, into the -Destination state: a state file into an etcd state, an etcd state into a file as a backup, or one file into another. The destination adopts the source''s state id (and the ids the source adopted), so the previews the source started, labelled dyadports.state with its id, are the destination''s own: Get-DyadPortAllocation shows them Active, and Stop-DyadPreview and the idle reaper act on them; new previews carry the destination''s own id. A record the destination cannot take (it has the app with another port or another preview, or that port on the same host with another app) is skipped with a non-terminating StateCopyConflict error (ResourceExists, target the AppId), and the destination keeps what it had; the rest is copied. All the copied records land in one transaction on the destination: all of them, or nothing. Each copied app gets an Allocated event in the destination''s history, its reason "copied from <source>". The source is never written; a missing source file is a non-terminating StateFileNotFound (the sources piped after it are still copied), and no engine is asked. -WhatIf reads both and writes nothing.'
        Parameters  = @{
            Source      = 'The state to copy from: a state file''s path (relative paths and ~ are resolved against the current location), or etcd://host:port[,host:port...][/prefix] (etcds:// for TLS). Accepted from the pipeline by property name (FullName, which Get-Item''s files have). It must exist; it is never written.'
            Destination = 'The state to copy into: a state file''s path (created with its folder when missing) or an etcd URL. Its own allocations are kept; conflicting records are skipped.'
        }
        Examples    = @(
            @{ Code = 'Copy-DyadPortState -Source ~/.local/state/dyadports/state.json -Destination etcd://10.0.0.5:2379,10.0.0.6:2379/team-a'; Remarks = 'Moves a file state into a fleet state on etcd; its running previews stay Active there.' }
            @{ Code = 'Copy-DyadPortState -Source etcd://10.0.0.5:2379/team-a -Destination ./backup/state.json -WhatIf'; Remarks = 'Shows how many allocations a backup of the fleet state into a file would copy, writing nothing.' }
            @{ Code = 'Get-Item ./backup/state.json | Copy-DyadPortState -Destination ($env:DYAD_PORTS_STATE ?? ''~/.local/state/dyadports/state.json'') | Format-List Copied, Identical, Conflicts, ConflictingApps'; Remarks = 'Restores a backup into the current state (DYAD_PORTS_STATE, else the default file on Linux and macOS) and shows the counts; each conflict is also an error record.' }
        )
        Inputs      = @(@{ Type = 'System.String'; Description = 'The source location, from objects with a FullName (files) or Source property.' })
        Outputs     = @(@{ Type = 'DyadPorts.StateCopyResult'; Description = 'Source, Destination, Copied, Identical, Conflicts, CopiedApps, ConflictingApps, AdoptedStateIds and Committed. Nothing under -WhatIf.' })
    }

    'Export-DyadPortMetrics' = @{
        Synopsis    = 'Writes DyadPorts metrics for Prometheus.'
        Description = 'Export-DyadPortMetrics writes the Prometheus text exposition format to a .prom file for node_exporter''s textfile collector, atomically (a temp file beside it, then a rename): gauges dyadports_ports, dyadports_ports_free, dyadports_ports_held{source}, dyadports_allocations{status}, and the counter dyadports_events_total{kind}. The counters are kept in the state file, not recounted from the journal, so rotating the journal never makes them go down. Refresh it every minute, for example from cron.'
        Parameters  = @{
            Path     = 'The .prom file to write, for example /var/lib/node_exporter/textfile_collector/dyadports.prom.'
            PortRange = 'The range the gauges describe. Default: DYAD_PORT_RANGE, else 32100-32200.'
            PassThru = 'Writes the file''s FileInfo to the pipeline.'
        }
        Examples    = @(
            @{ Code = 'Export-DyadPortMetrics -Path /var/lib/node_exporter/textfile_collector/dyadports.prom'; Remarks = 'One refresh. From cron: * * * * * pwsh -NoProfile -c "Export-DyadPortMetrics -Path /var/lib/node_exporter/textfile_collector/dyadports.prom"' }
            @{ Code = 'Export-DyadPortMetrics -Path ./dyadports.prom -PassThru | Get-Content | Select-String dyadports_ports_free'; Remarks = 'Writes the file and shows the free-ports gauge.' }
        )
        Inputs      = @(@{ Type = 'None'; Description = 'Nothing is taken from the pipeline.' })
        Outputs     = @(@{ Type = 'System.IO.FileInfo'; Description = 'With -PassThru, the file written. Otherwise nothing.' })
    }
}

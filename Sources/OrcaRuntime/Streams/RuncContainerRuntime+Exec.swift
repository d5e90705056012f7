import Foundation
import Synchronization
import Glibc
import OrcaCore

extension RuncContainerRuntime: ContainerStreaming {
    /// `runc exec` with its stdio on pipes, or with `--tty` on a pseudo-terminal of ours (runc
    /// needs a terminal on its own stdio to create the process's; it copies between the two and
    /// resizes the inner one on SIGWINCH). runc's own messages go to a log file so they do not
    /// mix with the process's stderr; the process's PID file lets a cancelled exec kill it.
    public func exec(_ id: String, _ request: ExecRequest, io: ProcessStreams) async throws -> Int32 {
        guard case .running = try await state(id) else {
            throw OrcaError(.badRequest, "container \(id) is not running")
        }
        let work = "\(dataDirectory)/exec/\(UUID().uuidString.prefix(12).lowercased())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let options = Runc.ExecOptions(tty: request.tty, pidFile: "\(work)/pid", logPath: "\(work)/runc.log")
        let argv = runc.execArguments(id, request.command, options)
        let env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        let kill: @Sendable () -> Void = {
            if let text = try? String(contentsOfFile: "\(work)/pid", encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 {
                Glibc.kill(pid, SIGKILL)
            }
        }
        let bundleConfig = "\(containerDirectory(id))/config.json"
        let code = request.tty
            ? try await execOnTerminal(env: env, request: request, io: io, kill: kill) { size in
                // The first size goes into the process spec: runc sizes the terminal before the
                // command starts (a resize after the start would race with e.g. `stty size`).
                guard let size else { return argv }
                var process = options
                process.processPath = "\(work)/process.json"
                try Self.writeProcessSpec(from: bundleConfig, to: "\(work)/process.json", command: request.command, size: size)
                return runc.execArguments(id, request.command, process)
            }
            : try await execOnPipes(argv: argv, env: env, request: request, io: io, kill: kill)
        if code != 0, let failure = Self.runcFailure(logPath: "\(work)/runc.log") {
            throw OrcaError(.runtimeError, "exec in container \(id) failed: \(failure)")
        }
        return code
    }

    /// Writes the container's process (environment, user, capabilities …) with `command`, a
    /// terminal and its size, for `runc exec --process`.
    static func writeProcessSpec(from bundleConfig: String, to path: String, command: [String], size: TerminalSize) throws {
        guard let data = FileManager.default.contents(atPath: bundleConfig),
              let config = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              var process = config["process"] as? [String: Any] else {
            throw OrcaError(.runtimeError, "no process in \(bundleConfig)")
        }
        process["args"] = command
        process["terminal"] = true
        process["consoleSize"] = ["height": Int(size.height), "width": Int(size.width)]
        try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: path))
    }

    /// The error runc logged (JSON lines), if it failed itself rather than the process.
    static func runcFailure(logPath: String) -> String? {
        guard let data = FileManager.default.contents(atPath: logPath), !data.isEmpty else { return nil }
        struct Line: Decodable { var level: String?; var msg: String? }
        let errors = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).compactMap { line -> String? in
            guard let l = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)),
                  l.level == "error" || l.level == "fatal" else { return nil }
            return l.msg
        }
        return errors.last
    }

    /// What ended in an exec's task group.
    private enum ExecEvent: Sendable { case input, output, exit(Int32), drained }

    private func execOnPipes(argv: [String], env: [String], request: ExecRequest, io: ProcessStreams,
                             kill: @escaping @Sendable () -> Void) async throws -> Int32 {
        let outPipe = try Syscall.cloexecPipe()
        let errPipe = try Syscall.cloexecPipe()
        var stdinChild: Int32
        var stdinWriter: FileDescriptorWriter?
        if request.stdin {
            let p = try Syscall.cloexecPipe()
            stdinChild = p.read
            stdinWriter = FileDescriptorWriter(fd: p.write)
        } else {
            stdinChild = try Syscall.call("open", "/dev/null") { open("/dev/null", O_RDONLY | O_CLOEXEC) }
        }
        let process: StreamedProcess
        do {
            defer {
                close(stdinChild)
                close(outPipe.write)
                close(errPipe.write)
            }
            process = try StreamedProcess.spawn(argv: argv, env: env, stdin: stdinChild, stdout: outPipe.write, stderr: errPipe.write)
        } catch {
            close(outPipe.read)
            close(errPipe.read)
            throw error
        }
        let out = try FileDescriptorReader(fd: outPipe.read)
        let err = try FileDescriptorReader(fd: errPipe.read)
        return try await run(process: process, outputs: [(out, io.stdout), (err, io.stderr)], stdin: io.stdin, stdinWriter: stdinWriter,
                             closeStdinAtEnd: true, kill: kill)
    }

    /// With a terminal. The client's first size is applied before runc starts (a command such
    /// as `stty size` may run at once); later sizes are applied and signalled (SIGWINCH) to runc.
    private func execOnTerminal(env: [String], request: ExecRequest, io: ProcessStreams, kill: @escaping @Sendable () -> Void,
                                argv: (TerminalSize?) throws -> [String]) async throws -> Int32 {
        let pty = try Pseudoterminal.open()
        let resizeFD = dup(pty.controller)
        defer { close(resizeFD) }
        let runcPID = ProcessIDBox()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            if let resize = io.resize {
                let (firstSize, sized) = AsyncStream<Void>.makeStream()
                group.addTask {
                    for await size in resize {
                        Pseudoterminal.resize(resizeFD, to: size)
                        sized.yield()
                        if let pid = runcPID.value { Glibc.kill(pid, SIGWINCH) }
                    }
                    sized.finish()
                }
                // Up to 1 s for the first size (kubectl sends it right after connecting).
                await withTaskGroup(of: Void.self) { wait in
                    wait.addTask { for await _ in firstSize { return } }
                    wait.addTask { try? await Task.sleep(for: .seconds(1)) }
                    await wait.next()
                    wait.cancelAll()
                }
            }
            let size = Pseudoterminal.size(resizeFD)
            let process: StreamedProcess
            do {
                defer { close(pty.terminal) }
                process = try StreamedProcess.spawn(argv: try argv(size), env: env, stdin: pty.terminal, stdout: pty.terminal, stderr: pty.terminal)
            } catch {
                close(pty.controller)
                group.cancelAll()
                throw error
            }
            runcPID.value = process.pid
            let readFD = dup(pty.controller)
            let reader = try FileDescriptorReader(fd: readFD)
            let writer = FileDescriptorWriter(fd: pty.controller)
            let code = try await run(process: process, outputs: [(reader, io.stdout)], stdin: request.stdin ? io.stdin : nil,
                                     stdinWriter: writer, closeStdinAtEnd: false, kill: kill)
            group.cancelAll()
            await writer.close()
            return code
        }
    }

    /// Pumps stdin into the process and its outputs to the callbacks until it exits and its
    /// outputs end — or 2 s after the exit when a leftover background process holds them open.
    private func run(process: StreamedProcess, outputs: [(FileDescriptorReader, @Sendable ([UInt8]) async throws -> Void)],
                     stdin: AsyncStream<[UInt8]>?, stdinWriter: FileDescriptorWriter?, closeStdinAtEnd: Bool,
                     kill: @escaping @Sendable () -> Void) async throws -> Int32 {
        try await withThrowingTaskGroup(of: ExecEvent.self) { group in
            if let stdin, let stdinWriter {
                group.addTask {
                    for await chunk in stdin {
                        do { try await stdinWriter.write(chunk) } catch { break }
                    }
                    if closeStdinAtEnd { await stdinWriter.close() }
                    return .input
                }
            } else if closeStdinAtEnd, let stdinWriter {
                await stdinWriter.close()
            }
            for (reader, sink) in outputs {
                group.addTask {
                    do { try await reader.forEach(sink) } catch {
                        reader.stop()
                        kill()
                        throw error
                    }
                    return .output
                }
            }
            group.addTask {
                let exited = ProcessIDBox()
                let code = await withTaskCancellationHandler { await process.wait() } onCancel: {
                    // Kill the process and let runc reap it and exit; runc itself only if it
                    // lingers (killing it first would leave the process to us as a zombie).
                    kill()
                    DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
                        if exited.value == nil { Glibc.kill(process.pid, SIGKILL) }
                    }
                }
                exited.value = process.pid
                return .exit(code)
            }
            var outputsLeft = outputs.count
            var code: Int32?
            while let event = try await group.next() {
                switch event {
                case .input, .drained: break
                case .output: outputsLeft -= 1
                case .exit(let c):
                    code = c
                    group.addTask {
                        try? await Task.sleep(for: .seconds(2))
                        for (reader, _) in outputs { reader.stop() }
                        return .drained
                    }
                }
                if outputsLeft == 0, let code {
                    group.cancelAll()
                    return code
                }
            }
            return code ?? 255
        }
    }
}

/// A process ID set once by one task and read by another.
final class ProcessIDBox: Sendable {
    private let pid = Mutex<pid_t?>(nil)
    var value: pid_t? {
        get { pid.withLock { $0 } }
        set { pid.withLock { $0 = newValue } }
    }
}

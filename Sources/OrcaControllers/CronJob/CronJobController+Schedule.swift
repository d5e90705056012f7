import Foundation
import OrcaClient

extension CronJobController {
    /// What `syncCronJob` did: when to look again, whether the status changed, the error.
    struct SyncOutcome {
        var requeue: TimeInterval?
        var statusChanged = false
        var error: (any Error)?
    }

    /// Requeues land this long after the scheduled time, against clock skew.
    static let nextScheduleDelta: TimeInterval = 0.1

    /// Reconciles the owned jobs, then starts the job of the most recent unmet schedule
    /// time if it is due, not too late, and the concurrency policy allows (`syncCronJob`).
    func syncCronJob(_ cronJob: inout CronJob, _ owned: [Job]) async -> SyncOutcome {
        var outcome = SyncOutcome()
        do {
            outcome.statusChanged = try await reconcileJobs(&cronJob, owned)
        } catch {
            outcome.error = error
            return outcome
        }
        if cronJob.metadata?.deletionTimestamp != nil { return outcome }
        var zone = TimeZone.current
        if let name = cronJob.spec?.timeZone {
            guard let named = TimeZone(identifier: name) else {
                await recorder.record(cronJob, type: "Warning", reason: "UnknownTimeZone", message: "invalid timeZone: \"\(name)\": unknown time zone \(name)")
                return outcome
            }
            zone = named
        }
        if cronJob.spec?.suspend == true { return outcome }
        let text = cronJob.spec?.schedule ?? ""
        if text.contains("TZ") {
            await recorder.record(cronJob, type: "Warning", reason: "UnsupportedSchedule",
                                  message: "CRON_TZ or TZ used in schedule \"\(text)\" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details")
        }
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(parsing: text, timeZone: zone)
        } catch {
            await recorder.record(cronJob, type: "Warning", reason: "UnparseableSchedule", message: "unparseable schedule: \"\(text)\" : \(error)")
            return outcome
        }
        let now = clock.now
        let times: (earliest: Date, mostRecent: Date?, tooManyMissed: Bool)
        do {
            times = try Self.mostRecentScheduleTime(cronJob, now: now, schedule: schedule, includingStartingDeadline: true)
        } catch {
            await recorder.record(cronJob, type: "Warning", reason: "InvalidSchedule", message: "invalid schedule: \(text) : \(error)")
            return outcome
        }
        guard let scheduled = times.mostRecent, scheduled <= now else {
            // Nothing due: wake at the next scheduled time.
            outcome.requeue = Self.nextScheduleDelay(cronJob, now: now, schedule: schedule)
            return outcome
        }
        if times.tooManyMissed {
            await recorder.record(cronJob, type: "Warning", reason: "TooManyMissedTimes",
                                  message: "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
        }
        if let deadline = cronJob.spec?.startingDeadlineSeconds, scheduled.addingTimeInterval(TimeInterval(deadline)) < now {
            await recorder.record(cronJob, type: "Warning", reason: "MissSchedule",
                                  message: "Missed scheduled time to start a job: \(Self.rfc1123Z(scheduled))")
            outcome.requeue = Self.nextScheduleDelay(cronJob, now: now, schedule: schedule)
            return outcome
        }
        let name = Self.jobName(cronJob, scheduled)
        let active = cronJob.status?.active ?? []
        if active.contains(where: { $0.name == name }) || KubernetesTime.date(cronJob.status?.lastScheduleTime) == scheduled {
            outcome.requeue = Self.nextScheduleDelay(cronJob, now: now, schedule: schedule)
            return outcome
        }
        switch cronJob.spec?.concurrencyPolicy ?? "Allow" {
        case "Forbid" where !active.isEmpty:
            await recorder.record(cronJob, type: "Normal", reason: "JobAlreadyActive",
                                  message: "Not starting job because prior execution is running and concurrency policy is Forbid")
            outcome.requeue = Self.nextScheduleDelay(cronJob, now: now, schedule: schedule)
            return outcome
        case "Replace":
            for ref in active {
                do {
                    let job = try await client.get(Job.self, namespace: ref.namespace ?? cronJob.metadata?.namespace, name: ref.name ?? "")
                    guard await deleteJob(&cronJob, job) else {
                        outcome.error = OrcaError(.internalError, "could not replace job \(ref.name ?? "")")
                        return outcome
                    }
                } catch let error as APIError where error.isNotFound {
                    let updatedActive = (cronJob.status?.active ?? []).filter { $0.uid != ref.uid }
                    cronJob.status?.active = updatedActive
                } catch {
                    outcome.error = error
                    return outcome
                }
                outcome.statusChanged = true
            }
        default:
            break
        }
        var created: Job?
        do {
            created = try await client.create(Self.job(from: cronJob, scheduledAt: scheduled, name: name))
            await recorder.record(cronJob, type: "Normal", reason: "SuccessfulCreate", message: "Created job \(name)")
        } catch let error as APIError where error.isAlreadyExists {
            // Created by an earlier pass whose status write did not land: take it as ours.
            do {
                let existing = try await client.get(Job.self, namespace: cronJob.metadata?.namespace, name: name)
                guard existing.metadata?.controllerRef?.uid == cronJob.metadata?.uid else {
                    outcome.error = error
                    return outcome
                }
                created = existing
            } catch {
                outcome.error = error
                return outcome
            }
        } catch {
            await recorder.record(cronJob, type: "Warning", reason: "FailedCreate", message: "Error creating job: \(error)")
            outcome.error = error
            return outcome
        }
        guard let job = created else { return outcome }
        if !(cronJob.status?.active ?? []).contains(where: { $0.uid == job.metadata?.uid }) {
            let ref = ObjectReference(apiVersion: Job.apiVersion, kind: Job.kind, name: job.metadata?.name, namespace: job.metadata?.namespace,
                                      resourceVersion: job.metadata?.resourceVersion, uid: job.metadata?.uid)
            let updatedActive = (cronJob.status?.active ?? []) + [ref]
            cronJob.status?.active = updatedActive
        }
        cronJob.status?.lastScheduleTime = KubernetesTime.string(scheduled)
        outcome.statusChanged = true
        outcome.requeue = Self.nextScheduleDelay(cronJob, now: now, schedule: schedule)
        return outcome
    }

    /// A schedule whose consecutive times are less than a second apart (or end) is refused.
    struct InvalidSchedule: Error, CustomStringConvertible {
        var description: String { "time difference between two schedules is less than 1 second" }
    }

    /// The last schedule time (or creation), the most recent time a job was due at or before
    /// `now` (nil if none), and whether more than 100 were missed (`mostRecentScheduleTime`).
    static func mostRecentScheduleTime(_ cronJob: CronJob, now: Date, schedule: CronSchedule,
                                       includingStartingDeadline: Bool) throws -> (earliest: Date, mostRecent: Date?, tooManyMissed: Bool) {
        var earliest = KubernetesTime.date(cronJob.status?.lastScheduleTime)
            ?? KubernetesTime.date(cronJob.metadata?.creationTimestamp) ?? now
        if includingStartingDeadline, let deadline = cronJob.spec?.startingDeadlineSeconds {
            // Nothing older than the deadline will be started.
            earliest = max(earliest, now.addingTimeInterval(-TimeInterval(deadline)))
        }
        guard let t1 = schedule.next(after: earliest) else { throw InvalidSchedule() }
        if now < t1 { return (earliest, nil, false) }
        guard let t2 = schedule.next(after: t1) else { throw InvalidSchedule() }
        if now < t2 { return (earliest, t1, false) }
        let between = Int64(t2.timeIntervalSince(t1).rounded())
        if between < 1 { throw InvalidSchedule() }
        // Estimate how many were missed, start just before the last ones, and walk forward.
        let missed = Int64(now.timeIntervalSince(t1)) / between + 1
        let start = t1.addingTimeInterval(TimeInterval((missed - 2) * between))
        var mostRecent: Date?
        var next = schedule.next(after: start)
        while let t = next, t <= now {
            mostRecent = t
            next = schedule.next(after: t)
        }
        return (earliest, mostRecent, missed > 100)
    }

    /// Seconds from `now` until just after the next scheduled time (`nextScheduleTimeDuration`).
    static func nextScheduleDelay(_ cronJob: CronJob, now: Date, schedule: CronSchedule) -> TimeInterval? {
        let from: Date
        if let times = try? mostRecentScheduleTime(cronJob, now: now, schedule: schedule, includingStartingDeadline: false) {
            from = times.mostRecent ?? times.earliest
        } else {
            from = now
        }
        guard let next = schedule.next(after: from) else { return nil }
        return next.addingTimeInterval(nextScheduleDelta).timeIntervalSince(now)
    }

    /// `<cronjob>-<scheduled time in minutes since the epoch>`: one name per scheduled time.
    static func jobName(_ cronJob: CronJob, _ scheduled: Date) -> String {
        "\(cronJob.metadata?.name ?? "")-\(Int64(scheduled.timeIntervalSince1970.rounded(.down)) / 60)"
    }

    /// The job of one scheduled time (`getJobFromTemplate2`): the template's labels,
    /// annotations (plus the scheduled timestamp in the CronJob's zone) and spec, controlled
    /// by the CronJob.
    static func job(from cronJob: CronJob, scheduledAt scheduled: Date, name: String) -> Job {
        let template = cronJob.spec?.jobTemplate
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = cronJob.spec?.timeZone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        var annotations = template?.metadata?.annotations ?? [:]
        annotations[scheduledTimestampAnnotation] = formatter.string(from: scheduled)
        let labels = template?.metadata?.labels
        let meta = ObjectMeta(annotations: annotations, labels: (labels?.isEmpty ?? true) ? nil : labels, name: name,
                              namespace: cronJob.metadata?.namespace, ownerReferences: [.controller(cronJob)])
        return Job(metadata: meta, spec: template?.spec)
    }

    /// Go's `time.RFC1123Z` in UTC: `Mon, 02 Jan 2006 15:04:05 -0700`.
    static func rfc1123Z(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}

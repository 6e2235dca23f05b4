// Child processes for ownership tests: one killed with SIGKILL after doing something (as a run
// killed by a user or a CI timeout), or one kept alive until the test lets it go.
#pragma once

#include <csignal>
#include <cstdlib>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>

namespace ksx::test {

// Runs `work` in a forked child; an exception ends the child (it must never return into the
// test runner's copy).
inline void guarded(const std::function<void()>& work) {
    try {
        work();
    } catch (...) {
        ::_exit(3);
    }
}

// Runs `work` in a child that is then killed with SIGKILL (no destructor, no cleanup runs).
inline void run_then_kill(const std::function<void()>& work) {
    pid_t pid = ::fork();
    if (pid == 0) {
        guarded(work);
        ::kill(::getpid(), SIGKILL);
        ::_exit(1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
}

// A child that runs `work` and then stays alive (holding whatever `work` holds) until the
// object is destroyed.
class LiveChild {
public:
    explicit LiveChild(const std::function<void()>& work) {
        int ready[2];
        int release[2];
        if (::pipe(ready) != 0 || ::pipe(release) != 0) {
            std::abort();
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(ready[0]);
            ::close(release[1]);
            guarded(work);
            char c = 1;
            (void)!::write(ready[1], &c, 1);
            (void)!::read(release[0], &c, 1); // returns when the parent closes its end
            ::kill(::getpid(), SIGKILL);
        }
        ::close(ready[1]);
        ::close(release[0]);
        char c = 0;
        (void)!::read(ready[0], &c, 1);
        ::close(ready[0]);
        release_ = release[1];
    }
    LiveChild(const LiveChild&) = delete;
    LiveChild& operator=(const LiveChild&) = delete;
    ~LiveChild() {
        ::close(release_);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }

private:
    pid_t pid_ = -1;
    int release_ = -1;
};

} // namespace ksx::test

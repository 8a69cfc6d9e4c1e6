// The people of the synthetic archive: articulated 2D figures with PoseTrack's 17 joints,
// animated by a few motions (walking, crossing, waving, turning). Pure functions of time and a
// seed: the same seed gives the same people in the same poses.
import Foundation
import PoseCore


/// One synthetic person over a whole video.
struct SynthPerson {
    enum Motion: CaseIterable { case walk, cross, wave, turn }
    var motion: Motion
    /// Standing height in pixels.
    var height: Double
    /// Feet position at frame 0 and horizontal speed in pixels per frame.
    var startX: Double
    var feetY: Double
    var speed: Double
    var phase: Double
    var yaw0: Double
    var skin: (Double, Double, Double)
    var shirt: (Double, Double, Double)
    var pants: (Double, Double, Double)
    var stripes: Double

    init(random rng: inout SplitMix64, width: Int, height frameHeight: Int, frames: Int, motion: Motion) {
        let w = Double(width), h = Double(frameHeight)
        self.motion = motion
        height = h * rng.uniform(0.35, 0.8)
        feetY = min(h * 1.02, max(height + h * 0.03, h * rng.uniform(0.62, 1.0)))
        phase = rng.uniform(0, 2 * .pi)
        let travel = w * rng.uniform(0.25, 0.6)
        switch motion {
        case .walk:
            speed = (rng.uniform() < 0.5 ? -1 : 1) * travel / Double(max(frames, 1))
            startX = w * rng.uniform(0.2, 0.8) - speed * Double(frames) / 2
            yaw0 = speed > 0 ? Double.pi / 2 : -Double.pi / 2
        case .cross:
            // Starts near one side and crosses the frame, passing in front of / behind others.
            let fromLeft = rng.uniform() < 0.5
            speed = (fromLeft ? 1 : -1) * w * rng.uniform(0.6, 1.0) / Double(max(frames, 1))
            startX = fromLeft ? w * rng.uniform(0.0, 0.2) : w * rng.uniform(0.8, 1.0)
            yaw0 = speed > 0 ? Double.pi / 2 : -Double.pi / 2
        case .wave, .turn:
            speed = 0
            startX = w * rng.uniform(0.15, 0.85)
            yaw0 = rng.uniform(-0.5, 0.5)
        }
        func colour(_ rng: inout SplitMix64) -> (Double, Double, Double) { (rng.uniform(20, 235), rng.uniform(20, 235), rng.uniform(20, 235)) }
        let tone = rng.uniform(0.45, 1.0)
        skin = (230 * tone, 180 * tone, 140 * tone)
        shirt = colour(&rng)
        pants = colour(&rng)
        stripes = rng.uniform() < 0.5 ? rng.uniform(0.15, 0.4) : 0
    }

    /// The 17 joints (PoseTrack order) at frame `t`, in image pixels.
    func joints(at t: Int) -> [(x: Double, y: Double)] {
        let h = height, time = Double(t)
        let x = startX + speed * time
        var yaw = yaw0
        var stride = 0.0, waveArm = false
        let cadence = 0.35
        switch motion {
        case .walk, .cross: stride = sin(phase + cadence * time)
        case .wave: waveArm = true
        case .turn: yaw = yaw0 + 0.12 * time
        }
        let c = cos(yaw)
        // Sideways walkers: limbs swing in the image plane; facing the camera they barely do.
        let swing = abs(sin(yaw))
        let legLength = 0.48 * h
        let pelvis = (x: x, y: feetY - legLength - 0.02 * h * abs(stride))
        let neck = (x: pelvis.x, y: pelvis.y - 0.30 * h)
        let headBottom = (x: neck.x, y: neck.y - 0.02 * h)
        let headTop = (x: headBottom.x, y: headBottom.y - 0.15 * h)
        let headCentre = (x: headBottom.x, y: (headBottom.y + headTop.y) / 2)
        let facing = sin(yaw)
        let nose = (x: headCentre.x + 0.045 * h * facing, y: headCentre.y + 0.015 * h)
        let earOffset = 0.05 * h * c
        let shoulderHalf = 0.11 * h, hipHalf = 0.07 * h
        func limb(_ from: (x: Double, y: Double), _ length: Double, _ angle: Double) -> (x: Double, y: Double) {
            (from.x + length * sin(angle), from.y + length * cos(angle))
        }
        var points: [(x: Double, y: Double)] = []
        points.append(nose)
        points.append(headBottom)
        points.append(headTop)
        points.append((headCentre.x + earOffset, headCentre.y))   // left ear (image right when facing us)
        points.append((headCentre.x - earOffset, headCentre.y))
        let leftShoulder = (x: neck.x + shoulderHalf * c, y: neck.y + 0.02 * h)
        let rightShoulder = (x: neck.x - shoulderHalf * c, y: neck.y + 0.02 * h)
        points.append(leftShoulder); points.append(rightShoulder)
        let armSwing = 0.5 * stride * swing * (facing >= 0 ? 1 : -1)
        let leftUpper = -armSwing + 0.15 * c, rightUpper = armSwing - 0.15 * c
        let leftElbow = limb(leftShoulder, 0.17 * h, leftUpper)
        var rightElbow = limb(rightShoulder, 0.17 * h, rightUpper)
        var rightWrist = limb(rightElbow, 0.15 * h, rightUpper - 0.3 * (facing >= 0 ? -1 : 1) * swing)
        if waveArm {
            // Right arm up and out, forearm waving.
            let upper = -Double.pi + 0.7 * (c >= 0 ? -1 : 1)
            rightElbow = limb(rightShoulder, 0.17 * h, upper)
            rightWrist = limb(rightElbow, 0.15 * h, -Double.pi + 0.6 * sin(phase + 0.5 * time))
        }
        let leftWrist = limb(leftElbow, 0.15 * h, leftUpper + 0.3 * (facing >= 0 ? 1 : -1) * swing)
        points.append(leftElbow); points.append(rightElbow)
        points.append(leftWrist); points.append(rightWrist)
        let leftHip = (x: pelvis.x + hipHalf * c, y: pelvis.y)
        let rightHip = (x: pelvis.x - hipHalf * c, y: pelvis.y)
        points.append(leftHip); points.append(rightHip)
        let legSwing = 0.45 * stride * swing * (facing >= 0 ? 1 : -1)
        let leftKnee = limb(leftHip, 0.24 * h, legSwing)
        let rightKnee = limb(rightHip, 0.24 * h, -legSwing)
        let bend = 0.35 * (facing >= 0 ? -1 : 1) * swing
        points.append(leftKnee); points.append(rightKnee)
        points.append(limb(leftKnee, 0.24 * h, legSwing + bend * max(0, -stride)))
        points.append(limb(rightKnee, 0.24 * h, -legSwing + bend * max(0, stride)))
        return points
    }
}

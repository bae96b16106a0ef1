"The benchmark command runs and prints its table."
import subprocess, sys, shutil

def test_adv_kt_bench_prints_a_table():
    exe = shutil.which('adv_kt_bench')
    cmd = [exe] if exe else [sys.executable, '-c', 'from adv_kt.benchmark import cli; cli()']
    out = subprocess.run(cmd + ['--arch', 'lenet', '--attack', 'fgsm', '--n', '8', '--n-loop', '4', '--batch', '8', '--repeats', '1'],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '| lenet | 1 | official FGSM eps=0.1px | 8 |' in out.stdout

"The benchmark command runs and prints its table."
import subprocess, sys, shutil

def test_adv_kt_bench_prints_a_table():
    exe = shutil.which('adv_kt_bench')
    cmd = [exe] if exe else [sys.executable, '-c', 'from adv_kt.benchmark import cli; cli()']
    out = subprocess.run(cmd + ['--arch', 'lenet', '--attack', 'fgsm', '--n', '8', '--n-loop', '4', '--batch', '8', '--repeats', '1'],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '| lenet | 1 | official FGSM eps=0.1px | 8 |' in out.stdout

def test_adv_kt_train_bench_is_installed_and_prints_a_table():
    from importlib.metadata import entry_points
    scripts = {e.name: e.value for e in entry_points(group='console_scripts')}
    assert scripts.get('adv_kt_train_bench') == 'adv_kt.train_benchmark:cli'
    exe = shutil.which('adv_kt_train_bench')
    cmd = [exe] if exe else [sys.executable, '-c', 'from adv_kt.train_benchmark import cli; cli()']
    out = subprocess.run(cmd + ['--configs', 'lenet:0.25', '--steps', '2', '--rounds', '1', '--batch', '8'],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert '| arch | width | pipeline |' in out.stdout and '| lenet | 0.25 |' in out.stdout, out.stdout
